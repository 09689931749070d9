import { Badge, Button, Drawer, Group, NumberInput, Paper, Stack, Table, Text, TextInput, UnstyledButton } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, data } from '../api/client';
import { EmptyState, notifyDone, notifyError, QueryState, TaskProgress } from '../components/feedback';
import { SelectAll, SelectOne, useSelection } from '../components/selection';
import { useWorkspace } from '../session';
import { NeedsSector, PageHeader, Pager, STATUS_COLORS } from './common';

export function ClustersPage() {
  return (
    <>
      <PageHeader
        title="Clusters"
        description="Groups of keywords one article (or a few) can answer. Generate content ideas from them."
      />
      <NeedsSector>{(scope) => <ClusterList scope={scope} />}</NeedsSector>
    </>
  );
}

function ClusterList({ scope }: { scope: { site_id: number; sector_id: number } }) {
  const { canWrite } = useWorkspace();
  const [params, setParams] = useSearchParams();
  const openId = Number(params.get('open')) || null;
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search, 300);
  const [page, setPage] = useState(1);
  const [perCluster, setPerCluster] = useState<number | string>(3);
  const [task, setTask] = useState<number | null>(null);
  const selection = useSelection();
  const query = { ...scope, page, page_size: 50, ordering: '-volume', ...(debounced ? { search: debounced } : {}) };
  const clusters = useQuery({
    queryKey: ['clusters', query],
    queryFn: () => data(api.GET('/api/v1/planner/clusters', { params: { query } })),
    placeholderData: keepPreviousData,
  });
  const generate = useMutation({
    mutationFn: () =>
      data(
        api.POST('/api/v1/planner/clusters/auto_generate_ideas', {
          body: { ids: selection.ids, ...(typeof perCluster === 'number' ? { ideas_per_cluster: perCluster } : {}) },
        }),
      ),
    onSuccess: (result) => setTask(result.task_id),
    onError: notifyError,
  });
  const rows = clusters.data?.results ?? [];
  return (
    <Stack gap="sm">
      <Group gap="xs" align="flex-end" wrap="wrap">
        <TextInput
          label="Search"
          value={search}
          onChange={(e) => {
            setSearch(e.currentTarget.value);
            setPage(1);
          }}
          w={220}
        />
        {canWrite && (
          <Paper withBorder p="xs" ml="auto">
            <Group gap="xs" align="flex-end">
              <NumberInput
                label="Ideas per cluster"
                min={1}
                max={10}
                value={perCluster}
                onChange={setPerCluster}
                w={130}
                size="xs"
              />
              <Button
                size="xs"
                disabled={selection.ids.length === 0}
                onClick={() => generate.mutate()}
                loading={generate.isPending}
              >
                Generate ideas for {selection.ids.length || 'the selected'} cluster{selection.ids.length === 1 ? '' : 's'}
              </Button>
            </Group>
          </Paper>
        )}
      </Group>
      {task && (
        <TaskProgress
          key={task}
          taskId={task}
          label="Generating ideas"
          invalidate={[['clusters'], ['ideas'], ['credits']]}
          onFinished={(t) => {
            if (t.status === 'succeeded') {
              selection.clear();
              notifyDone('Ideas ready: open Ideas to queue them to the writer.');
            }
          }}
        />
      )}
      <QueryState query={clusters}>
        {clusters.data?.count === 0 && !debounced ? (
          <EmptyState title="No clusters yet">
            Cluster this sector's keywords from the <Link to="/keywords">Keywords</Link> screen (lexical clustering is free).
          </EmptyState>
        ) : (
          <Table.ScrollContainer minWidth={640}>
            <Table striped highlightOnHover aria-label="Clusters" data-testid="clusters-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={40}>
                    <SelectAll selection={selection} ids={rows.map((r) => r.id)} label="Select every cluster on this page" />
                  </Table.Th>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Keywords</Table.Th>
                  <Table.Th>Volume</Table.Th>
                  <Table.Th>Difficulty</Table.Th>
                  <Table.Th>Status</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((c) => (
                  <Table.Tr key={c.id}>
                    <Table.Td>
                      <SelectOne selection={selection} id={c.id} label={`Select ${c.name}`} />
                    </Table.Td>
                    <Table.Td>
                      <UnstyledButton c="blue" fz="sm" onClick={() => setParams({ open: String(c.id) })}>
                        {c.name}
                      </UnstyledButton>
                    </Table.Td>
                    <Table.Td>{c.keywords_count}</Table.Td>
                    <Table.Td>{c.volume}</Table.Td>
                    <Table.Td>{c.difficulty ?? '—'}</Table.Td>
                    <Table.Td>
                      <Badge color={STATUS_COLORS[c.status]} variant="light">
                        {c.status.replace('_', ' ')}
                      </Badge>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        <Pager page={page} count={clusters.data?.count ?? 0} pageSize={50} onChange={setPage} />
      </QueryState>
      <Drawer opened={openId !== null} onClose={() => setParams({})} position="right" title="Cluster keywords" size="md">
        {openId !== null && <ClusterKeywords id={openId} />}
      </Drawer>
    </Stack>
  );
}

function ClusterKeywords({ id }: { id: number }) {
  const cluster = useQuery({
    queryKey: ['clusters', id],
    queryFn: () => data(api.GET('/api/v1/planner/clusters/{id}', { params: { path: { id } } })),
  });
  const keywords = useQuery({
    queryKey: ['clusters', id, 'keywords'],
    queryFn: () =>
      data(api.GET('/api/v1/planner/clusters/{id}/keywords', { params: { path: { id }, query: { page_size: 200 } } })),
  });
  return (
    <QueryState query={cluster}>
      <Text fw={600}>{cluster.data?.name}</Text>
      <Text size="sm" c="dimmed" mb="sm">
        {cluster.data?.description || 'No description.'}
      </Text>
      <QueryState query={keywords}>
        <Table aria-label="Keywords of the cluster">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Keyword</Table.Th>
              <Table.Th>Volume</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {keywords.data?.results.map((k) => (
              <Table.Tr key={k.id}>
                <Table.Td>{k.keyword}</Table.Td>
                <Table.Td>{k.volume ?? '—'}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </QueryState>
    </QueryState>
  );
}
