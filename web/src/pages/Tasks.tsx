import { Anchor, Badge, Button, Group, Paper, Select, Stack, Table, Text } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, data } from '../api/client';
import { EmptyState, notifyDone, notifyError, QueryState, TaskProgress } from '../components/feedback';
import { SelectAll, SelectOne, useSelection } from '../components/selection';
import { useWorkspace } from '../session';
import { NeedsSector, PageHeader, Pager, STATUS_COLORS } from './common';

export function TasksPage() {
  return (
    <>
      <PageHeader
        title="Writer tasks"
        description="One task per article to write. Generate selected tasks; each article lands in Content as a draft."
      />
      <NeedsSector>{(scope) => <TaskList scope={scope} />}</NeedsSector>
    </>
  );
}

function TaskList({ scope }: { scope: { site_id: number; sector_id: number } }) {
  const { canWrite } = useWorkspace();
  const [status, setStatus] = useState<string | null>(null);
  const [page, setPage] = useState(1);
  const [running, setRunning] = useState<{ id: number; credits: number; live: boolean } | null>(null);
  const selection = useSelection();
  const query = { ...scope, page, page_size: 50, ...(status ? { status: status as 'queued' } : {}) };
  const tasks = useQuery({
    queryKey: ['tasks', query],
    queryFn: () => data(api.GET('/api/v1/writer/tasks', { params: { query } })),
    placeholderData: keepPreviousData,
    refetchInterval: running?.live ? 2000 : false,
  });
  const generate = useMutation({
    mutationFn: () => data(api.POST('/api/v1/writer/tasks/auto_generate_content', { body: { ids: selection.ids } })),
    onSuccess: (result) => {
      selection.clear();
      setRunning({ id: result.task_id, credits: result.credits_estimated, live: true });
    },
    onError: notifyError,
  });
  const retry = useMutation({
    mutationFn: (id: number) => data(api.POST('/api/v1/writer/tasks/{id}/retry', { params: { path: { id } } })),
    onSuccess: () => tasks.refetch(),
    onError: notifyError,
  });
  const rows = tasks.data?.results ?? [];
  return (
    <Stack gap="sm">
      <Group gap="xs" align="flex-end">
        <Select
          label="Status"
          placeholder="Any"
          clearable
          data={['queued', 'in_progress', 'completed', 'failed', 'cancelled']}
          value={status}
          onChange={(v) => {
            setStatus(v);
            setPage(1);
          }}
          w={150}
        />
        {canWrite && (
          <Paper withBorder p="xs" ml="auto">
            <Button
              size="xs"
              disabled={selection.ids.length === 0}
              onClick={() => generate.mutate()}
              loading={generate.isPending}
            >
              Generate {selection.ids.length || 'the selected'} article{selection.ids.length === 1 ? '' : 's'}
            </Button>
          </Paper>
        )}
      </Group>
      {running && (
        <>
          <Text size="sm" c="dimmed">
            Estimated cost: {running.credits} credits, charged as each article is stored.
          </Text>
          <TaskProgress
            key={running.id}
            taskId={running.id}
            label="Writing articles"
            invalidate={[['tasks'], ['content'], ['credits']]}
            onFinished={(t) => {
              setRunning((current) => current && { ...current, live: false });
              if (t.status === 'succeeded') notifyDone('Articles written: open Content to read and submit them for review.');
            }}
          />
        </>
      )}
      <QueryState query={tasks}>
        {rows.length === 0 ? (
          <EmptyState title="No writer tasks">
            Queue ideas to the writer from the <Link to="/ideas">Ideas</Link> screen.
          </EmptyState>
        ) : (
          <Table.ScrollContainer minWidth={640}>
            <Table striped aria-label="Writer tasks" data-testid="tasks-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={40}>
                    <SelectAll
                      selection={selection}
                      ids={rows.filter((r) => r.status === 'queued').map((r) => r.id)}
                      label="Select every queued task on this page"
                    />
                  </Table.Th>
                  <Table.Th>Title</Table.Th>
                  <Table.Th>Words</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Article</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((t) => (
                  <Table.Tr key={t.id}>
                    <Table.Td>
                      {t.status === 'queued' && <SelectOne selection={selection} id={t.id} label={`Select ${t.title}`} />}
                    </Table.Td>
                    <Table.Td>
                      {t.title}
                      {t.error && (
                        <Text size="xs" c="red">
                          {t.error}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>{t.word_count_target}</Table.Td>
                    <Table.Td>
                      <Badge color={STATUS_COLORS[t.status]} variant="light">
                        {t.status.replace('_', ' ')}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      {t.content_id ? (
                        <Anchor component={Link} to={`/content/${t.content_id}`}>
                          Open article
                        </Anchor>
                      ) : t.status === 'failed' && canWrite ? (
                        <Button size="compact-xs" variant="light" onClick={() => retry.mutate(t.id)}>
                          Retry
                        </Button>
                      ) : (
                        '—'
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        <Pager page={page} count={tasks.data?.count ?? 0} pageSize={50} onChange={setPage} />
      </QueryState>
    </Stack>
  );
}
