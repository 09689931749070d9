import { Anchor, Badge, Button, Group, Select, Stack, Table, Text } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, data } from '../api/client';
import { ConfirmButton, EmptyState, notifyDone, notifyError, QueryState, TaskProgress } from '../components/feedback';
import { useWorkspace } from '../session';
import { formatDate, NeedsSite, PageHeader, Pager, STATUS_COLORS } from './common';

const RECORD_STATUSES = ['pending', 'publishing', 'published', 'failed', 'unpublished'] as const;
type RecordStatus = (typeof RECORD_STATUSES)[number];

export function PublishingPage() {
  return (
    <>
      <PageHeader
        title="Publishing"
        description="One record per article sent to the site's WordPress: its status, attempts, last error and the live post."
      />
      <NeedsSite>{(site) => <RecordList siteId={site.id} />}</NeedsSite>
    </>
  );
}

function RecordList({ siteId }: { siteId: number }) {
  const { canWrite } = useWorkspace();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<RecordStatus | null>(null);
  const [page, setPage] = useState(1);
  const [retrying, setRetrying] = useState<number | null>(null);
  const query = { site_id: siteId, page, page_size: 50, ordering: '-updated_at', ...(status ? { status } : {}) };
  const records = useQuery({
    queryKey: ['publishing-records', query],
    queryFn: () => data(api.GET('/api/v1/publisher/publishing-records', { params: { query } })),
    placeholderData: keepPreviousData,
  });
  const integrations = useQuery({
    queryKey: ['integrations', { site_id: siteId }],
    queryFn: () => data(api.GET('/api/v1/integration/integrations', { params: { query: { site_id: siteId } } })),
  });
  const retry = useMutation({
    mutationFn: (id: number) => data(api.POST('/api/v1/publisher/publishing-records/{id}/retry', { params: { path: { id } } })),
    onSuccess: (result) => {
      setRetrying(result.task_id);
      void records.refetch();
    },
    onError: notifyError,
  });
  const unpublish = useMutation({
    mutationFn: (id: number) =>
      data(api.POST('/api/v1/publisher/publishing-records/{id}/unpublish', { params: { path: { id } } })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['publishing-records'] });
      void queryClient.invalidateQueries({ queryKey: ['content'] });
      notifyDone("The post is in WordPress's trash and the article is approved again; publish it to bring it back.");
    },
    onError: notifyError,
  });
  const rows = records.data?.results ?? [];
  const hasWordPress = (integrations.data?.results ?? []).some((i) => i.platform === 'wordpress');
  return (
    <Stack gap="sm">
      <Group gap="xs" align="flex-end">
        <Select
          label="Status"
          placeholder="Any"
          clearable
          data={[...RECORD_STATUSES]}
          value={status}
          onChange={(v) => {
            setStatus(v as RecordStatus | null);
            setPage(1);
          }}
          w={160}
        />
      </Group>
      {retrying && (
        <TaskProgress
          key={retrying}
          taskId={retrying}
          label="Publishing again"
          invalidate={[['publishing-records'], ['content']]}
          onFinished={(t) => {
            if (t.status === 'succeeded') notifyDone('Published: the record links to the post.');
          }}
        />
      )}
      <QueryState query={records}>
        {rows.length === 0 ? (
          status ? (
            <EmptyState title={`No ${status} records`}>Clear the status filter to see every record of this site.</EmptyState>
          ) : integrations.isSuccess && !hasWordPress ? (
            <EmptyState title="This site is not connected to WordPress yet">
              Publishing sends approved articles to the site's WordPress. <Link to="/integrations">Connect WordPress</Link> first,
              then publish an approved article from <Link to="/content">Content</Link>.
            </EmptyState>
          ) : (
            <EmptyState title="Nothing published yet">
              Open an approved article in <Link to="/content">Content</Link> and press Publish; its record shows here.
            </EmptyState>
          )
        ) : (
          <Table.ScrollContainer minWidth={760}>
            <Table striped aria-label="Publishing records" data-testid="publishing-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Article</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Attempts</Table.Th>
                  <Table.Th>WordPress</Table.Th>
                  <Table.Th>Updated</Table.Th>
                  <Table.Th>Actions</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((r) => (
                  <Table.Tr key={r.id} data-testid={`publishing-record-${r.id}`}>
                    <Table.Td>
                      <Anchor component={Link} to={`/content/${r.content_id}`}>
                        Article #{r.content_id}
                      </Anchor>
                      {r.error && (
                        <Text size="xs" c="red">
                          {r.error}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Badge color={STATUS_COLORS[r.status]} variant="light">
                        {r.status}
                      </Badge>
                      <Text size="xs" c="dimmed">
                        as {r.remote_status}
                        {r.scheduled_for ? ` for ${formatDate(r.scheduled_for)}` : ''}
                      </Text>
                    </Table.Td>
                    <Table.Td>{r.attempts}</Table.Td>
                    <Table.Td>
                      {r.external_url ? (
                        <Anchor href={r.external_url} target="_blank" rel="noreferrer">
                          Open the post
                        </Anchor>
                      ) : (
                        '—'
                      )}
                    </Table.Td>
                    <Table.Td>{formatDate(r.published_at ?? r.updated_at)}</Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        {canWrite && r.status === 'failed' && (
                          <Button size="compact-xs" variant="light" onClick={() => retry.mutate(r.id)} loading={retry.isPending}>
                            Retry
                          </Button>
                        )}
                        {canWrite && r.external_id && r.status === 'published' && (
                          <ConfirmButton label="Unpublish" onConfirm={() => unpublish.mutate(r.id)} />
                        )}
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        <Pager page={page} count={records.data?.count ?? 0} pageSize={50} onChange={setPage} />
      </QueryState>
    </Stack>
  );
}
