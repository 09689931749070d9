import { Badge, Group, Paper, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api, data } from '../api/client';
import { EmptyState, QueryState } from '../components/feedback';
import { useBalance } from '../components/Shell';
import { formatDate, PageHeader } from './common';

const PALETTE = ['#228be6', '#40c057', '#fab005', '#fa5252', '#7950f2', '#15aabf', '#fd7e14', '#e64980'];

export function CreditsPage() {
  const balance = useBalance();
  const [period, setPeriod] = useState<'day' | 'week' | 'month'>('day');
  const since = useMemo(() => new Date(Date.now() - 30 * 86_400_000).toISOString(), []);
  const usage = useQuery({
    queryKey: ['credits', 'usage', period],
    queryFn: () =>
      data(api.GET('/api/v1/billing/credits/usage/summary', { params: { query: { period, created_after: since } } })),
  });
  const transactions = useQuery({
    queryKey: ['credits', 'transactions'],
    queryFn: () => data(api.GET('/api/v1/billing/credits/transactions', { params: { query: { cursor: '', page_size: 50 } } })),
  });
  // One bar per bucket, one stacked series per operation: what the credits went on, day by day.
  const { rows, operations } = useMemo(() => {
    const byBucket = new Map<string, Record<string, number | string>>();
    const ops = new Set<string>();
    for (const item of usage.data?.results ?? []) {
      const bucket = item.bucket.slice(0, 10);
      const row = byBucket.get(bucket) ?? { bucket };
      row[item.operation] = Number(row[item.operation] ?? 0) + item.credits;
      byBucket.set(bucket, row);
      ops.add(item.operation);
    }
    return {
      rows: [...byBucket.values()].sort((a, b) => String(a.bucket).localeCompare(String(b.bucket))),
      operations: [...ops].sort(),
    };
  }, [usage.data]);
  return (
    <>
      <PageHeader
        title="Credits"
        description="AI work costs credits, estimated before it starts and charged per unit as it succeeds."
      />
      <SimpleGrid cols={{ base: 1, sm: 3 }} mb="md">
        <Paper withBorder p="md">
          <Text size="sm" c="dimmed">
            Balance
          </Text>
          <Title order={2} data-testid="credits-balance">
            {balance.data?.balance ?? '…'}
          </Title>
        </Paper>
      </SimpleGrid>
      <Paper withBorder p="md" mb="md">
        <Group justify="space-between" mb="sm">
          <Title order={2} size="h4">
            Usage by operation (last 30 days)
          </Title>
          <SegmentedControl
            size="xs"
            value={period}
            onChange={(v) => setPeriod(v as 'day')}
            data={[
              { value: 'day', label: 'Day' },
              { value: 'week', label: 'Week' },
              { value: 'month', label: 'Month' },
            ]}
            aria-label="Bucket size"
          />
        </Group>
        <QueryState query={usage}>
          {rows.length === 0 ? (
            <EmptyState title="No AI usage yet">
              Cluster with AI, generate ideas or write articles: what they cost shows here.
            </EmptyState>
          ) : (
            <div
              style={{ width: '100%', height: 280 }}
              data-testid="usage-chart"
              role="img"
              aria-label="Credits used per operation and day"
            >
              <ResponsiveContainer>
                <BarChart data={rows}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="bucket" fontSize={12} />
                  <YAxis allowDecimals={false} fontSize={12} />
                  <Tooltip />
                  <Legend />
                  {operations.map((op, index) => (
                    <Bar
                      key={op}
                      dataKey={op}
                      stackId="credits"
                      fill={PALETTE[index % PALETTE.length]}
                      isAnimationActive={false}
                    />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </div>
          )}
        </QueryState>
      </Paper>
      <Paper withBorder p="md">
        <Title order={2} size="h4" mb="sm">
          Transactions
        </Title>
        <QueryState query={transactions}>
          <Table.ScrollContainer minWidth={560}>
            <Table striped aria-label="Credit transactions" data-testid="transactions-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>Type</Table.Th>
                  <Table.Th>Operation</Table.Th>
                  <Table.Th>Amount</Table.Th>
                  <Table.Th>Balance after</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {transactions.data?.results.map((t) => (
                  <Table.Tr key={t.id}>
                    <Table.Td>{formatDate(t.created_at)}</Table.Td>
                    <Table.Td>
                      <Badge variant="light" color={t.amount < 0 ? 'orange' : 'green'}>
                        {t.type}
                      </Badge>
                    </Table.Td>
                    <Table.Td>{t.operation ?? '—'}</Table.Td>
                    <Table.Td>{t.amount > 0 ? `+${t.amount}` : t.amount}</Table.Td>
                    <Table.Td>{t.balance_after}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </QueryState>
      </Paper>
      <Stack />
    </>
  );
}
