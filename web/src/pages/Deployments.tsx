import { Anchor, Badge, Button, Stack, Table, Text } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, data } from '../api/client';
import { ConfirmButton, EmptyState, notifyDone, notifyError, QueryState, TaskProgress } from '../components/feedback';
import { useWorkspace } from '../session';
import { formatDate, NeedsSite, PageHeader, Pager, STATUS_COLORS } from './common';

export function DeploymentsPage() {
  return (
    <>
      <PageHeader
        title="Deployments"
        description="A static export of the site's published articles, served by this server: each deploy is a new version, and the previous one can be brought back."
      />
      <NeedsSite>{(site) => <DeploymentList siteId={site.id} />}</NeedsSite>
    </>
  );
}

const formatBytes = (bytes: number | undefined) =>
  bytes === undefined ? '—' : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function DeploymentList({ siteId }: { siteId: number }) {
  const { canWrite } = useWorkspace();
  const queryClient = useQueryClient();
  const [page, setPage] = useState(1);
  const [building, setBuilding] = useState<{ taskId: number; version: number } | null>(null);
  const query = { site_id: siteId, page, page_size: 25, ordering: '-version' };
  const deployments = useQuery({
    queryKey: ['deployments', query],
    queryFn: () => data(api.GET('/api/v1/publisher/deployments', { params: { query } })),
    placeholderData: keepPreviousData,
  });
  const deploy = useMutation({
    mutationFn: () => data(api.POST('/api/v1/publisher/deployments', { body: { site_id: siteId } })),
    onSuccess: (result) => {
      setBuilding({ taskId: result.task_id, version: result.deployment.version });
      void deployments.refetch();
    },
    onError: notifyError,
  });
  const rollback = useMutation({
    mutationFn: (id: number) => data(api.POST('/api/v1/publisher/deployments/{id}/rollback', { params: { path: { id } } })),
    onSuccess: (rolledBack) =>
      queryClient
        .invalidateQueries({ queryKey: ['deployments'] })
        .then(() => notifyDone(`Version ${rolledBack.version} rolled back: the previous version is served again.`)),
    onError: notifyError,
  });
  const rows = deployments.data?.results ?? [];
  return (
    <Stack gap="sm">
      {canWrite && (
        <Button onClick={() => deploy.mutate()} loading={deploy.isPending} style={{ alignSelf: 'flex-start' }}>
          Deploy the published articles
        </Button>
      )}
      {building && (
        <TaskProgress
          key={building.taskId}
          taskId={building.taskId}
          label={`Building version ${building.version}`}
          invalidate={[['deployments']]}
          onFinished={(t) => {
            if (t.status === 'succeeded') notifyDone(`Version ${building.version} is deployed and served.`);
          }}
        />
      )}
      <QueryState query={deployments}>
        {rows.length === 0 ? (
          <EmptyState title="No deployments yet">
            A deployment serves the site's published articles as static pages. Publish articles from{' '}
            <Link to="/content">Content</Link>, then press Deploy.
          </EmptyState>
        ) : (
          <Table.ScrollContainer minWidth={720}>
            <Table striped aria-label="Deployments" data-testid="deployments-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Version</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Contents</Table.Th>
                  <Table.Th>Deployed</Table.Th>
                  <Table.Th>Served at</Table.Th>
                  <Table.Th>Actions</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((d) => (
                  <Table.Tr key={d.id} data-testid={`deployment-${d.version}`}>
                    <Table.Td>
                      v{d.version}
                      {d.is_current && (
                        <Badge ml="xs" size="sm" color="teal">
                          current
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Badge color={STATUS_COLORS[d.status]} variant="light">
                        {d.status.replace('_', ' ')}
                      </Badge>
                      {d.error && (
                        <Text size="xs" c="red">
                          {d.error}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">
                        {d.metadata.articles ?? 0} articles · {d.metadata.files ?? 0} files · {formatBytes(d.metadata.bytes)}
                      </Text>
                    </Table.Td>
                    <Table.Td>{formatDate(d.deployed_at)}</Table.Td>
                    <Table.Td>
                      {d.url && d.status === 'deployed' ? (
                        <Anchor href={d.url} target="_blank" rel="noreferrer">
                          {d.url}
                        </Anchor>
                      ) : (
                        '—'
                      )}
                    </Table.Td>
                    <Table.Td>
                      {canWrite && d.is_current && <ConfirmButton label="Roll back" onConfirm={() => rollback.mutate(d.id)} />}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        <Pager page={page} count={deployments.data?.count ?? 0} pageSize={25} onChange={setPage} />
      </QueryState>
    </Stack>
  );
}
