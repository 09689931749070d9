import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Group,
  List,
  PasswordInput,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { api, data } from '../api/client';
import { ConfirmButton, ErrorAlert, fieldError, notifyDone, notifyError, QueryState, TaskProgress } from '../components/feedback';
import { useWorkspace } from '../session';
import { formatDate, NeedsSite, PageHeader, STATUS_COLORS } from './common';

type Integration = Awaited<ReturnType<typeof listIntegrations>>['results'][number];
type ConnectionCheck = Awaited<ReturnType<typeof checkConnection>>;

const listIntegrations = (siteId: number) =>
  data(api.GET('/api/v1/integration/integrations', { params: { query: { site_id: siteId } } }));
const checkConnection = (id: number) =>
  data(api.POST('/api/v1/integration/integrations/{id}/test_connection', { params: { path: { id } } }));

export function IntegrationsPage() {
  return (
    <>
      <PageHeader
        title="WordPress"
        description="The site's WordPress, reached with an application password: publishing sends articles there, and a sync imports its posts."
      />
      <NeedsSite>{(site) => <SiteIntegrations siteId={site.id} siteName={site.name} />}</NeedsSite>
    </>
  );
}

function SiteIntegrations({ siteId, siteName }: { siteId: number; siteName: string }) {
  const { canAdmin } = useWorkspace();
  const integrations = useQuery({ queryKey: ['integrations', { site_id: siteId }], queryFn: () => listIntegrations(siteId) });
  const wordpress = (integrations.data?.results ?? []).filter((i) => i.platform === 'wordpress');
  return (
    <QueryState query={integrations}>
      <Stack gap="md">
        {wordpress.map((integration) => (
          <IntegrationCard key={integration.id} integration={integration} />
        ))}
        {wordpress.length === 0 &&
          (canAdmin ? (
            <ConnectForm siteId={siteId} siteName={siteName} />
          ) : (
            <Alert color="gray" title={`${siteName} is not connected to WordPress`}>
              Connecting a site needs an owner or an admin of this account: ask one to connect it here.
            </Alert>
          ))}
      </Stack>
    </QueryState>
  );
}

function ConnectForm({ siteId, siteName }: { siteId: number; siteName: string }) {
  const queryClient = useQueryClient();
  const [baseUrl, setBaseUrl] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const create = useMutation({
    mutationFn: () =>
      data(
        api.POST('/api/v1/integration/integrations', {
          body: { site_id: siteId, platform: 'wordpress', base_url: baseUrl, username, credentials: password },
        }),
      ),
    onSuccess: async () => {
      setPassword('');
      await queryClient.invalidateQueries({ queryKey: ['integrations'] });
      notifyDone('WordPress connected: test the connection to check the password and its capabilities.');
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const shown = ['base_url', 'username', 'credentials'];
  return (
    <Card withBorder component="form" onSubmit={submit} aria-label="Connect WordPress" maw={560}>
      <Title order={2} size="h4" mb={4}>
        Connect {siteName} to WordPress
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        Create an application password in WordPress (Users → Profile → Application passwords) for a user who can publish posts and
        upload media.
      </Text>
      <Stack gap="sm">
        <TextInput
          label="WordPress address"
          placeholder="https://blog.example.com"
          required
          value={baseUrl}
          onChange={(e) => setBaseUrl(e.currentTarget.value)}
          error={fieldError(create.error, 'base_url')}
        />
        <TextInput
          label="WordPress username"
          required
          autoComplete="off"
          value={username}
          onChange={(e) => setUsername(e.currentTarget.value)}
          error={fieldError(create.error, 'username')}
        />
        <PasswordInput
          label="Application password"
          required
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
          error={fieldError(create.error, 'credentials')}
        />
        <ErrorAlert error={create.error} shownFields={shown} />
        <Button type="submit" loading={create.isPending}>
          Connect WordPress
        </Button>
      </Stack>
    </Card>
  );
}

function IntegrationCard({ integration }: { integration: Integration }) {
  const queryClient = useQueryClient();
  const { sectors, canWrite, canAdmin } = useWorkspace();
  const siteSectors = sectors.filter((s) => s.site_id === integration.site_id);
  const [sectorId, setSectorId] = useState<string | null>(siteSectors[0] ? String(siteSectors[0].id) : null);
  const [check, setCheck] = useState<ConnectionCheck | null>(null);
  const [syncTask, setSyncTask] = useState<number | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['integrations'] });
  const test = useMutation({
    mutationFn: () => checkConnection(integration.id),
    onSuccess: (result) => {
      setCheck(result);
      void refresh();
    },
    onError: notifyError,
  });
  const sync = useMutation({
    mutationFn: () =>
      data(
        api.POST('/api/v1/integration/integrations/{id}/sync', {
          params: { path: { id: integration.id } },
          body: { sector_id: Number(sectorId) },
        }),
      ),
    onSuccess: (result) => setSyncTask(result.task_id),
    onError: notifyError,
  });
  const remove = useMutation({
    mutationFn: () => api.DELETE('/api/v1/integration/integrations/{id}', { params: { path: { id: integration.id } } }),
    onSuccess: () => refresh().then(() => notifyDone('WordPress disconnected.')),
    onError: notifyError,
  });
  return (
    <Card withBorder data-testid={`integration-${integration.id}`}>
      <Group justify="space-between" align="flex-start">
        <Stack gap={2}>
          <Title order={2} size="h4">
            {integration.base_url}
          </Title>
          <Text size="sm" c="dimmed">
            As {integration.username || '—'} · REST root {integration.rest_root ?? 'not found yet'} · checked{' '}
            {formatDate(integration.last_checked_at)} · synced {formatDate(integration.last_synced_at)}
          </Text>
        </Stack>
        <Badge color={STATUS_COLORS[integration.status]} variant="light" data-testid="integration-status">
          {integration.status}
        </Badge>
      </Group>
      {integration.last_error && (
        <Alert color="red" mt="sm" title="Last error">
          {integration.last_error}
        </Alert>
      )}
      {check && <CheckResult check={check} />}
      <Group mt="sm" gap="xs" align="flex-end">
        {canWrite && (
          <Button variant="light" onClick={() => test.mutate()} loading={test.isPending}>
            Test connection
          </Button>
        )}
        {canWrite &&
          (siteSectors.length > 0 ? (
            <>
              <Select
                label="Import posts into sector"
                data={siteSectors.map((s) => ({ value: String(s.id), label: s.name }))}
                value={sectorId}
                onChange={setSectorId}
                allowDeselect={false}
                w={220}
              />
              <Button variant="default" onClick={() => sync.mutate()} loading={sync.isPending} disabled={!sectorId}>
                Sync posts
              </Button>
            </>
          ) : (
            <Text size="sm" c="dimmed">
              <Link to="/sites">Add a sector</Link> to this site to import its posts.
            </Text>
          ))}
        {canAdmin && <ConfirmButton label="Disconnect" onConfirm={() => remove.mutate()} />}
      </Group>
      {syncTask && (
        <Stack mt="sm" gap={4}>
          <TaskProgress
            key={syncTask}
            taskId={syncTask}
            label="Importing posts"
            invalidate={[['integrations'], ['content']]}
            onFinished={(t) => {
              if (t.status === 'succeeded') notifyDone('Posts imported: they are in Content.');
            }}
          />
        </Stack>
      )}
    </Card>
  );
}

function CheckResult({ check }: { check: ConnectionCheck }) {
  return (
    <Alert
      color={check.ok ? 'green' : 'red'}
      mt="sm"
      title={check.ok ? 'Connection works' : 'Connection failed'}
      data-testid="connection-result"
    >
      <Text size="sm">{check.message}</Text>
      <List size="sm" mt={4}>
        {check.wordpress_version && <List.Item>WordPress {check.wordpress_version}</List.Item>}
        {check.user && (
          <List.Item>
            Signed in as {check.user.username} ({check.user.roles.join(', ') || 'no role'})
          </List.Item>
        )}
        {check.authentication_methods.length > 0 && (
          <List.Item>Authentication offered: {check.authentication_methods.join(', ')}</List.Item>
        )}
        {check.missing_capabilities.length > 0 && (
          <List.Item>
            Missing capabilities: <Code>{check.missing_capabilities.join(', ')}</Code>
          </List.Item>
        )}
        {check.code && (
          <List.Item>
            Code: <Code>{check.code}</Code>
          </List.Item>
        )}
      </List>
    </Alert>
  );
}
