import { Badge, Button, Group, Paper, Select, Stack, Table, Text } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { api, data } from '../api/client';
import { EmptyState, notifyError, QueryState } from '../components/feedback';
import { SelectAll, SelectOne, useSelection } from '../components/selection';
import { useWorkspace } from '../session';
import { NeedsSector, PageHeader, Pager, STATUS_COLORS } from './common';

export function IdeasPage() {
  return (
    <>
      <PageHeader title="Content ideas" description="Article ideas written from clusters. Queue the good ones to the writer." />
      <NeedsSector>{(scope) => <IdeaList scope={scope} />}</NeedsSector>
    </>
  );
}

function IdeaList({ scope }: { scope: { site_id: number; sector_id: number } }) {
  const { canWrite } = useWorkspace();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [status, setStatus] = useState<string | null>('new');
  const [page, setPage] = useState(1);
  const selection = useSelection();
  const query = { ...scope, page, page_size: 50, ...(status ? { status: status as 'new' } : {}) };
  const ideas = useQuery({
    queryKey: ['ideas', query],
    queryFn: () => data(api.GET('/api/v1/planner/content-ideas', { params: { query } })),
    placeholderData: keepPreviousData,
  });
  const queue = useMutation({
    mutationFn: () => data(api.POST('/api/v1/planner/content-ideas/bulk_queue_to_writer', { body: { ids: selection.ids } })),
    onSuccess: async () => {
      selection.clear();
      await queryClient.invalidateQueries({ queryKey: ['ideas'] });
      await queryClient.invalidateQueries({ queryKey: ['tasks'] });
      navigate('/tasks');
    },
    onError: notifyError,
  });
  const rows = ideas.data?.results ?? [];
  return (
    <Stack gap="sm">
      <Group gap="xs" align="flex-end">
        <Select
          label="Status"
          placeholder="Any"
          clearable
          data={['new', 'queued', 'completed', 'archived']}
          value={status}
          onChange={(v) => {
            setStatus(v);
            setPage(1);
          }}
          w={150}
        />
        {canWrite && (
          <Paper withBorder p="xs" ml="auto">
            <Button size="xs" disabled={selection.ids.length === 0} onClick={() => queue.mutate()} loading={queue.isPending}>
              Queue {selection.ids.length || 'the selected'} to the writer
            </Button>
          </Paper>
        )}
      </Group>
      <QueryState query={ideas}>
        {rows.length === 0 ? (
          <EmptyState title={status ? `No ${status} ideas` : 'No ideas yet'}>
            Ideas come from clusters: select clusters on the <Link to="/clusters">Clusters</Link> screen and generate ideas.
          </EmptyState>
        ) : (
          <Table.ScrollContainer minWidth={640}>
            <Table striped aria-label="Content ideas" data-testid="ideas-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={40}>
                    <SelectAll selection={selection} ids={rows.map((r) => r.id)} label="Select every idea on this page" />
                  </Table.Th>
                  <Table.Th>Title</Table.Th>
                  <Table.Th>Structure</Table.Th>
                  <Table.Th>Words</Table.Th>
                  <Table.Th>Keywords</Table.Th>
                  <Table.Th>Status</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((idea) => (
                  <Table.Tr key={idea.id}>
                    <Table.Td>
                      <SelectOne selection={selection} id={idea.id} label={`Select ${idea.title}`} />
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" fw={500}>
                        {idea.title}
                      </Text>
                      <Text size="xs" c="dimmed" lineClamp={2}>
                        {idea.description}
                      </Text>
                    </Table.Td>
                    <Table.Td>{idea.content_structure}</Table.Td>
                    <Table.Td>{idea.estimated_word_count}</Table.Td>
                    <Table.Td>{idea.target_keywords.slice(0, 3).join(', ')}</Table.Td>
                    <Table.Td>
                      <Badge color={STATUS_COLORS[idea.status]} variant="light">
                        {idea.status}
                      </Badge>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        <Pager page={page} count={ideas.data?.count ?? 0} pageSize={50} onChange={setPage} />
      </QueryState>
    </Stack>
  );
}
