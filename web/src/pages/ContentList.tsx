import { Anchor, Badge, Group, Select, Stack, Table, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, data } from '../api/client';
import { EmptyState, QueryState } from '../components/feedback';
import { formatDate, NeedsSector, PageHeader, Pager, STATUS_COLORS } from './common';

const STATUSES = ['draft', 'review', 'approved', 'rejected', 'published', 'archived'] as const;

export function ContentListPage() {
  return (
    <>
      <PageHeader title="Content" description="Articles of this sector: read, edit, check, link, and submit them for review." />
      <NeedsSector>{(scope) => <ContentList scope={scope} />}</NeedsSector>
    </>
  );
}

function ContentList({ scope }: { scope: { site_id: number; sector_id: number } }) {
  const [status, setStatus] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search, 300);
  const [page, setPage] = useState(1);
  const query = {
    ...scope,
    page,
    page_size: 50,
    ordering: '-updated_at',
    ...(status ? { status: status as (typeof STATUSES)[number] } : {}),
    ...(debounced ? { search: debounced } : {}),
  };
  const content = useQuery({
    queryKey: ['content', query],
    queryFn: () => data(api.GET('/api/v1/writer/content', { params: { query } })),
    placeholderData: keepPreviousData,
  });
  const rows = content.data?.results ?? [];
  return (
    <Stack gap="sm">
      <Group gap="xs" align="flex-end">
        <TextInput
          label="Search"
          value={search}
          onChange={(e) => {
            setSearch(e.currentTarget.value);
            setPage(1);
          }}
          w={220}
        />
        <Select
          label="Status"
          placeholder="Any"
          clearable
          data={[...STATUSES]}
          value={status}
          onChange={(v) => {
            setStatus(v);
            setPage(1);
          }}
          w={150}
        />
      </Group>
      <QueryState query={content}>
        {rows.length === 0 ? (
          <EmptyState title="No articles here">
            Articles are written from <Link to="/tasks">writer tasks</Link>; generate some there.
          </EmptyState>
        ) : (
          <Table.ScrollContainer minWidth={640}>
            <Table striped highlightOnHover aria-label="Articles" data-testid="content-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Title</Table.Th>
                  <Table.Th>Words</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Updated</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((c) => (
                  <Table.Tr key={c.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/content/${c.id}`}>
                        {c.title}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{c.word_count}</Table.Td>
                    <Table.Td>
                      <Badge color={STATUS_COLORS[c.status]} variant="light">
                        {c.status}
                      </Badge>
                    </Table.Td>
                    <Table.Td>{formatDate(c.updated_at)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        <Pager page={page} count={content.data?.count ?? 0} pageSize={50} onChange={setPage} />
      </QueryState>
    </Stack>
  );
}
