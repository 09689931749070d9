import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Group,
  List,
  NumberInput,
  Progress,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { api, data } from '../api/client';
import { ConfirmButton, EmptyState, ErrorAlert, fieldError, notifyDone, notifyError, QueryState } from '../components/feedback';
import { useWorkspace } from '../session';
import { formatDate, NeedsSite, PageHeader, Pager, STATUS_COLORS } from './common';

type Config = Awaited<ReturnType<typeof readConfig>>;
type StageName = keyof Config['stages'];
type Run = Awaited<ReturnType<typeof readRun>>;

const readConfig = (siteId: number) =>
  data(api.GET('/api/v1/automation/configs/{site_id}', { params: { path: { site_id: siteId } } }));
const readRun = (id: number) => data(api.GET('/api/v1/automation/runs/{id}', { params: { path: { id } } }));

/** The pipeline's order, and what each stage's batch counts. */
const STAGES: { name: StageName; label: string; unit: string }[] = [
  { name: 'clusters', label: 'Cluster keywords', unit: 'keywords' },
  { name: 'ideas', label: 'Ideas', unit: 'clusters' },
  { name: 'tasks', label: 'Writer tasks', unit: 'ideas' },
  { name: 'articles', label: 'Articles', unit: 'tasks' },
  { name: 'image_prompts', label: 'Image prompts', unit: 'articles' },
  { name: 'images', label: 'Images', unit: 'images' },
  { name: 'optimize', label: 'Optimize', unit: 'articles' },
  { name: 'link', label: 'Internal links', unit: 'articles' },
  { name: 'review', label: 'Submit for review', unit: 'articles' },
];
const RUN_STAGE_ORDER = [...STAGES.map((s) => s.name as string), 'publish'];
const ACTIVE = new Set(['queued', 'running', 'paused']);

export function AutomationPage() {
  return (
    <>
      <PageHeader
        title="Automation"
        description="The site's whole pipeline, keywords to published articles, on a schedule and within a credit budget."
      />
      <NeedsSite>
        {(site) => (
          <Stack gap="lg">
            <ConfigCard siteId={site.id} />
            <RunNow siteId={site.id} />
            <RunList siteId={site.id} />
          </Stack>
        )}
      </NeedsSite>
    </>
  );
}

function ConfigCard({ siteId }: { siteId: number }) {
  const config = useQuery({ queryKey: ['automation-config', siteId], queryFn: () => readConfig(siteId) });
  return <QueryState query={config}>{config.data && <ConfigForm key={siteId} config={config.data} />}</QueryState>;
}

function ConfigForm({ config }: { config: Config }) {
  const queryClient = useQueryClient();
  const { canWrite } = useWorkspace();
  const [draft, setDraft] = useState(config);
  // A save or another tab's change answers a fresh config: the form follows it.
  useEffect(() => setDraft(config), [config]);
  const save = useMutation({
    mutationFn: () =>
      data(
        api.PATCH('/api/v1/automation/configs/{site_id}', {
          params: { path: { site_id: config.site_id } },
          body: {
            is_enabled: draft.is_enabled,
            schedule: draft.schedule,
            stages: draft.stages,
            ideas_per_cluster: draft.ideas_per_cluster,
            in_article_images: draft.in_article_images,
            require_approval: draft.require_approval,
            auto_publish: draft.auto_publish,
            publish_status: draft.publish_status,
            max_credits_per_run: draft.max_credits_per_run,
          },
        }),
      ),
    onSuccess: (saved) => {
      queryClient.setQueryData(['automation-config', config.site_id], saved);
      void queryClient.invalidateQueries({ queryKey: ['automation-estimate'] });
      notifyDone(saved.is_enabled ? 'Automation saved: it runs on the schedule shown.' : 'Automation saved (off).');
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const setStage = (name: StageName, change: Partial<{ enabled: boolean; batch_size: number }>) =>
    setDraft((d) => ({ ...d, stages: { ...d.stages, [name]: { ...d.stages[name], ...change } } }));
  const shown = [
    'schedule.cron',
    'schedule.timezone',
    'ideas_per_cluster',
    'in_article_images',
    'max_credits_per_run',
    ...STAGES.map((s) => `stages.${s.name}.batch_size`),
  ];
  return (
    <Card withBorder component="form" onSubmit={submit} aria-label="Automation settings">
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">
          Settings
        </Title>
        <Switch
          label="Run on the schedule"
          checked={draft.is_enabled}
          onChange={(e) => setDraft({ ...draft, is_enabled: e.currentTarget.checked })}
          disabled={!canWrite}
        />
      </Group>
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
        <Stack gap="sm">
          <Group grow align="flex-start">
            <TextInput
              label="Schedule (cron)"
              description="minute hour day month weekday"
              value={draft.schedule.cron}
              onChange={(e) => setDraft({ ...draft, schedule: { ...draft.schedule, cron: e.currentTarget.value } })}
              error={fieldError(save.error, 'schedule.cron')}
              disabled={!canWrite}
            />
            <TextInput
              label="Time zone"
              description="IANA name, e.g. Europe/Paris"
              value={draft.schedule.timezone}
              onChange={(e) => setDraft({ ...draft, schedule: { ...draft.schedule, timezone: e.currentTarget.value } })}
              error={fieldError(save.error, 'schedule.timezone')}
              disabled={!canWrite}
            />
          </Group>
          <div data-testid="next-runs">
            <Text size="sm" fw={500}>
              Next runs {config.is_enabled ? '' : '(once switched on and saved)'}
            </Text>
            {config.next_runs.length === 0 ? (
              <Text size="sm" c="dimmed">
                None: the schedule never matches.
              </Text>
            ) : (
              <List size="sm">
                {config.next_runs.map((time) => (
                  <List.Item key={time}>{formatDate(time)}</List.Item>
                ))}
              </List>
            )}
          </div>
          <Checkbox
            label="Articles wait for approval in the review queue"
            checked={draft.require_approval}
            onChange={(e) => setDraft({ ...draft, require_approval: e.currentTarget.checked })}
            disabled={!canWrite}
          />
          <Group align="flex-end">
            <Checkbox
              label="Publish approved articles to WordPress"
              checked={draft.auto_publish}
              onChange={(e) => setDraft({ ...draft, auto_publish: e.currentTarget.checked })}
              disabled={!canWrite}
            />
            <Select
              label="WordPress status"
              data={[
                { value: 'publish', label: 'Published' },
                { value: 'draft', label: 'Draft' },
              ]}
              value={draft.publish_status}
              onChange={(v) => v && setDraft({ ...draft, publish_status: v as Config['publish_status'] })}
              allowDeselect={false}
              disabled={!canWrite || !draft.auto_publish}
              w={140}
            />
          </Group>
          <Group grow align="flex-start">
            <NumberInput
              label="Budget per run (credits)"
              description="Empty: no limit but the balance"
              min={0}
              value={draft.max_credits_per_run ?? ''}
              onChange={(v) => setDraft({ ...draft, max_credits_per_run: typeof v === 'number' ? v : null })}
              error={fieldError(save.error, 'max_credits_per_run')}
              disabled={!canWrite}
            />
            <NumberInput
              label="Ideas per cluster"
              min={1}
              value={draft.ideas_per_cluster}
              onChange={(v) => typeof v === 'number' && setDraft({ ...draft, ideas_per_cluster: v })}
              error={fieldError(save.error, 'ideas_per_cluster')}
              disabled={!canWrite}
            />
            <NumberInput
              label="Images in each article"
              min={0}
              value={draft.in_article_images}
              onChange={(v) => typeof v === 'number' && setDraft({ ...draft, in_article_images: v })}
              error={fieldError(save.error, 'in_article_images')}
              disabled={!canWrite}
            />
          </Group>
        </Stack>
        <Table aria-label="Stages" data-testid="stages-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Stage</Table.Th>
              <Table.Th>Batch size</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {STAGES.map((stage) => (
              <Table.Tr key={stage.name}>
                <Table.Td>
                  <Checkbox
                    label={stage.label}
                    checked={draft.stages[stage.name].enabled}
                    onChange={(e) => setStage(stage.name, { enabled: e.currentTarget.checked })}
                    disabled={!canWrite}
                  />
                </Table.Td>
                <Table.Td>
                  <NumberInput
                    aria-label={`${stage.label} batch size (${stage.unit})`}
                    size="xs"
                    min={1}
                    w={120}
                    suffix={` ${stage.unit}`}
                    value={draft.stages[stage.name].batch_size}
                    onChange={(v) => typeof v === 'number' && setStage(stage.name, { batch_size: v })}
                    error={fieldError(save.error, `stages.${stage.name}.batch_size`)}
                    disabled={!canWrite || !draft.stages[stage.name].enabled}
                  />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </SimpleGrid>
      <ErrorAlert error={save.error} shownFields={shown} />
      {canWrite && (
        <Group mt="sm">
          <Button type="submit" loading={save.isPending}>
            Save settings
          </Button>
          <Button variant="default" onClick={() => setDraft(config)} disabled={draft === config}>
            Undo changes
          </Button>
        </Group>
      )}
    </Card>
  );
}

function RunNow({ siteId }: { siteId: number }) {
  const queryClient = useQueryClient();
  const { canWrite } = useWorkspace();
  const [asked, setAsked] = useState(false);
  const estimate = useQuery({
    queryKey: ['automation-estimate', siteId],
    queryFn: () => data(api.GET('/api/v1/automation/estimate', { params: { query: { site_id: siteId } } })),
    enabled: asked,
  });
  const run = useMutation({
    mutationFn: () => data(api.POST('/api/v1/automation/run_now', { body: { site_id: siteId } })),
    onSuccess: (result) =>
      queryClient
        .invalidateQueries({ queryKey: ['automation-runs'] })
        .then(() => notifyDone(`Run #${result.run.id} queued: its stages show below as they go.`)),
  });
  const overBudget =
    estimate.data &&
    (estimate.data.credits > estimate.data.balance ||
      (estimate.data.max_credits_per_run !== null && estimate.data.credits > estimate.data.max_credits_per_run));
  return (
    <Card withBorder aria-label="Run now">
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          Run now
        </Title>
        <Group gap="xs">
          <Button variant="default" onClick={() => (asked ? estimate.refetch() : setAsked(true))} loading={estimate.isFetching}>
            Estimate the next run
          </Button>
          {canWrite && (
            <Button onClick={() => run.mutate()} loading={run.isPending}>
              Run now
            </Button>
          )}
        </Group>
      </Group>
      {run.error && <ErrorAlert error={run.error} title="The run did not start" />}
      {asked && (
        <QueryState query={estimate}>
          {estimate.data && (
            <Stack gap="xs" data-testid="automation-estimate">
              <Text size="sm">
                At most <b>{estimate.data.credits}</b> credits; the account has {estimate.data.balance}
                {estimate.data.max_credits_per_run !== null
                  ? ` and the run's budget is ${estimate.data.max_credits_per_run}`
                  : ''}
                .
              </Text>
              {overBudget && (
                <Alert color="orange">
                  This is more than the {estimate.data.credits > estimate.data.balance ? 'balance' : "run's budget"}: a run now is
                  refused (402). Lower the batch sizes, raise the budget, or buy credits.
                </Alert>
              )}
              <Table aria-label="Estimate by stage">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Stage</Table.Th>
                    <Table.Th>Units</Table.Th>
                    <Table.Th>Credits</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {estimate.data.stages.map((s) => (
                    <Table.Tr key={s.stage} c={s.enabled ? undefined : 'dimmed'}>
                      <Table.Td>
                        {s.stage.replace('_', ' ')}
                        {s.enabled ? '' : ' (off)'}
                      </Table.Td>
                      <Table.Td>{s.units}</Table.Td>
                      <Table.Td>{s.credits}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Stack>
          )}
        </QueryState>
      )}
    </Card>
  );
}

function RunList({ siteId }: { siteId: number }) {
  const [page, setPage] = useState(1);
  const [openRun, setOpenRun] = useState<number | null>(null);
  const query = { site_id: siteId, page, page_size: 20, ordering: '-created_at' };
  const runs = useQuery({
    queryKey: ['automation-runs', query],
    queryFn: () => data(api.GET('/api/v1/automation/runs', { params: { query } })),
    placeholderData: keepPreviousData,
    // A run going on is asked again every two seconds, so its stage and status move without a reload.
    refetchInterval: (q) => ((q.state.data?.results ?? []).some((r) => ACTIVE.has(r.status)) ? 2000 : false),
  });
  const rows = runs.data?.results ?? [];
  const shown = openRun ?? rows[0]?.id ?? null;
  return (
    <Card withBorder aria-label="Runs">
      <Title order={2} size="h4" mb="xs">
        Runs
      </Title>
      <QueryState query={runs}>
        {rows.length === 0 ? (
          <EmptyState title="No runs yet">
            Press Run now above, or switch on the schedule and save: each run shows here with its stages and logs.
          </EmptyState>
        ) : (
          <Stack gap="sm">
            <Table.ScrollContainer minWidth={640}>
              <Table striped highlightOnHover aria-label="Automation runs" data-testid="runs-table">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Run</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Stage</Table.Th>
                    <Table.Th>Credits</Table.Th>
                    <Table.Th>Started</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {rows.map((r) => (
                    <Table.Tr key={r.id} bg={r.id === shown ? 'var(--mantine-color-blue-light)' : undefined}>
                      <Table.Td>
                        <Button size="compact-sm" variant="subtle" onClick={() => setOpenRun(r.id)} aria-pressed={r.id === shown}>
                          #{r.id} ({r.trigger})
                        </Button>
                      </Table.Td>
                      <Table.Td>
                        <Badge color={STATUS_COLORS[r.status]} variant="light">
                          {r.status}
                        </Badge>
                      </Table.Td>
                      <Table.Td>{r.current_stage?.replace('_', ' ') ?? '—'}</Table.Td>
                      <Table.Td>
                        {r.credits_used} / ~{r.estimated_credits}
                      </Table.Td>
                      <Table.Td>{formatDate(r.started_at ?? r.created_at)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            <Pager page={page} count={runs.data?.count ?? 0} pageSize={20} onChange={setPage} />
            {shown && <RunDetail key={shown} runId={shown} />}
          </Stack>
        )}
      </QueryState>
    </Card>
  );
}

function RunDetail({ runId }: { runId: number }) {
  const queryClient = useQueryClient();
  const { canWrite } = useWorkspace();
  const run = useQuery({
    queryKey: ['automation-run', runId],
    queryFn: () => readRun(runId),
    refetchInterval: (q) => (q.state.data && ACTIVE.has(q.state.data.status) ? 1500 : false),
  });
  const active = run.data ? ACTIVE.has(run.data.status) : false;
  const logs = useQuery({
    queryKey: ['automation-run-logs', runId],
    queryFn: () =>
      data(
        api.GET('/api/v1/automation/runs/{id}/logs', {
          params: { path: { id: runId }, query: { page_size: 100, ordering: '-created_at' } },
        }),
      ),
    refetchInterval: active ? 2000 : false,
  });
  const control = useMutation({
    mutationFn: (action: 'pause' | 'resume' | 'cancel') => {
      const path = { params: { path: { id: runId } } };
      if (action === 'pause') return data(api.POST('/api/v1/automation/runs/{id}/pause', path));
      if (action === 'resume') return data(api.POST('/api/v1/automation/runs/{id}/resume', path));
      return data(api.POST('/api/v1/automation/runs/{id}/cancel', path));
    },
    onSuccess: (updated) => {
      queryClient.setQueryData(['automation-run', runId], updated);
      void queryClient.invalidateQueries({ queryKey: ['automation-runs'] });
      notifyDone(`Run #${updated.id} is ${updated.status}.`);
    },
    onError: notifyError,
  });
  return (
    <QueryState query={run}>
      {run.data && (
        <Stack gap="sm" data-testid="run-detail" data-status={run.data.status}>
          <Group justify="space-between">
            <Title order={3} size="h5">
              Run #{run.data.id}: {run.data.status}
            </Title>
            {canWrite && (
              <Group gap="xs">
                {(run.data.status === 'running' || run.data.status === 'queued') && (
                  <Button size="xs" variant="light" onClick={() => control.mutate('pause')} loading={control.isPending}>
                    Pause
                  </Button>
                )}
                {run.data.status === 'paused' && (
                  <Button size="xs" onClick={() => control.mutate('resume')} loading={control.isPending}>
                    Resume
                  </Button>
                )}
                {active && <ConfirmButton label="Cancel run" onConfirm={() => control.mutate('cancel')} />}
              </Group>
            )}
          </Group>
          {run.data.error && (
            <Alert color="red" title={run.data.error.code}>
              {run.data.error.message}
            </Alert>
          )}
          <StageProgress run={run.data} />
          <Title order={4} size="h6">
            Logs
          </Title>
          <QueryState query={logs}>
            {(logs.data?.results ?? []).length === 0 ? (
              <Text size="sm" c="dimmed">
                No log lines yet: they appear as the run takes each step.
              </Text>
            ) : (
              <Table.ScrollContainer minWidth={560} mah={320}>
                <Table aria-label={`Logs of run ${runId}`} data-testid="run-logs">
                  <Table.Tbody>
                    {(logs.data?.results ?? []).map((line) => (
                      <Table.Tr key={line.id}>
                        <Table.Td w={170}>
                          <Text size="xs">{formatDate(line.created_at)}</Text>
                        </Table.Td>
                        <Table.Td w={90}>
                          <Badge size="xs" color={line.level === 'error' ? 'red' : line.level === 'warning' ? 'orange' : 'gray'}>
                            {line.level}
                          </Badge>
                        </Table.Td>
                        <Table.Td w={110}>
                          <Text size="xs">{line.stage ?? '—'}</Text>
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{line.message}</Text>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )}
          </QueryState>
        </Stack>
      )}
    </QueryState>
  );
}

const STAGE_COLORS: Record<string, string> = {
  pending: 'gray',
  running: 'blue',
  completed: 'green',
  skipped: 'dark',
  failed: 'red',
};

function StageProgress({ run }: { run: Run }) {
  const names = RUN_STAGE_ORDER.filter((name) => run.stages[name]);
  if (names.length === 0)
    return (
      <Text size="sm" c="dimmed">
        The run has not begun its stages yet.
      </Text>
    );
  return (
    <Table aria-label={`Stages of run ${run.id}`} data-testid="run-stages">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Stage</Table.Th>
          <Table.Th>Status</Table.Th>
          <Table.Th>Done</Table.Th>
          <Table.Th>Credits</Table.Th>
          <Table.Th>Errors</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {names.map((name) => {
          const stage = run.stages[name];
          if (!stage) return null;
          return (
            <Table.Tr key={name}>
              <Table.Td>{name.replace('_', ' ')}</Table.Td>
              <Table.Td>
                <Badge size="sm" variant="light" color={STAGE_COLORS[stage.status]}>
                  {stage.status}
                </Badge>
                {stage.status === 'running' && <Progress value={100} animated size="xs" mt={4} aria-label={`${name} running`} />}
              </Table.Td>
              <Table.Td>
                {stage.processed} processed · {stage.created} created · {stage.skipped} skipped
              </Table.Td>
              <Table.Td>{stage.credits}</Table.Td>
              <Table.Td>
                {stage.errors.length === 0 ? (
                  '—'
                ) : (
                  <List size="xs">
                    {stage.errors.slice(0, 3).map((e) => (
                      <List.Item key={`${e.unit}-${e.code}`}>
                        {e.unit}: {e.message}
                      </List.Item>
                    ))}
                    {stage.errors.length > 3 && <List.Item>and {stage.errors.length - 3} more (see the logs)</List.Item>}
                  </List>
                )}
              </Table.Td>
            </Table.Tr>
          );
        })}
      </Table.Tbody>
    </Table>
  );
}
