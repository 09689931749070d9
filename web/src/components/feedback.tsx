import { Alert, Button, Center, List, Loader, Paper, Progress, Stack, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { ApiError, api, data, explain } from '../api/client';

/** An API error as people read it: the message, field errors the form shows nowhere else, the request id. */
export function ErrorAlert({ error, shownFields = [], title }: { error: unknown; shownFields?: string[]; title?: string }) {
  if (!error) return null;
  const others = error instanceof ApiError ? error.otherErrors(shownFields) : [];
  return (
    <Alert color="red" title={title ?? 'That did not work'} role="alert" data-testid="api-error">
      <Text size="sm">{explain(error)}</Text>
      {others.length > 0 && (
        <List size="sm" mt="xs">
          {others.map((line) => (
            <List.Item key={line}>{line}</List.Item>
          ))}
        </List>
      )}
      {error instanceof ApiError && error.requestId && (
        <Text size="xs" c="dimmed" mt="xs">
          Request {error.requestId}
        </Text>
      )}
    </Alert>
  );
}

/** The field's own message from an API validation error (Mantine inputs take it as `error`). */
export const fieldError = (error: unknown, name: string) => (error instanceof ApiError ? error.field(name) : undefined);

export function notifyError(error: unknown) {
  notifications.show({ color: 'red', title: 'That did not work', message: explain(error), autoClose: 8000 });
}

export function notifyDone(message: string) {
  notifications.show({ color: 'green', message, autoClose: 4000 });
}

/** What an empty list means, and what to do next. */
export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <Paper withBorder p="xl" radius="md" data-testid="empty-state">
      <Stack align="center" gap="xs">
        <Title order={3} size="h4">
          {title}
        </Title>
        {children && (
          <Text c="dimmed" ta="center" size="sm" maw={520}>
            {children}
          </Text>
        )}
        {action}
      </Stack>
    </Paper>
  );
}

export function Loading({ label = 'Loading' }: { label?: string }) {
  return (
    <Center p="xl" aria-live="polite">
      <Loader size="sm" aria-label={label} />
    </Center>
  );
}

/** A query's three states in one place: a spinner, the error with its message, or the content. */
export function QueryState({ query, children }: { query: { isPending: boolean; error: unknown }; children: ReactNode }) {
  if (query.error) return <ErrorAlert error={query.error} title="Could not load this" />;
  if (query.isPending) return <Loading />;
  return <>{children}</>;
}

interface TaskSnapshot {
  id: number;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  progress: { current: number; total: number; message?: string } | null;
  error: { code: string; message: string } | null;
}

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * A background task followed live through its server-sent events (system/tasks/<id>/events/); when it ends,
 * the queries it changed are refreshed.
 */
export function TaskProgress({
  taskId,
  label,
  invalidate,
  onFinished,
}: {
  taskId: number;
  label: string;
  invalidate: string[][];
  onFinished?: (task: TaskSnapshot) => void;
}) {
  const queryClient = useQueryClient();
  const [task, setTask] = useState<TaskSnapshot | null>(null);
  // The latest callbacks, read when the task ends: the stream is opened once per task, not once per render.
  const ending = useRef({ invalidate, onFinished, queryClient });
  ending.current = { invalidate, onFinished, queryClient };
  useEffect(() => {
    let finished = false;
    let poll: ReturnType<typeof setTimeout> | undefined;
    const seen = (snapshot: TaskSnapshot) => {
      if (finished || typeof snapshot.status !== 'string') return;
      setTask(snapshot);
      if (!FINISHED.has(snapshot.status)) return;
      finished = true;
      source.close();
      const { invalidate: keys, onFinished: done, queryClient: client } = ending.current;
      for (const key of keys) void client.invalidateQueries({ queryKey: key });
      done?.(snapshot);
    };
    const source = new EventSource(`/api/v1/system/tasks/${taskId}/events/`);
    const read = (event: MessageEvent<string>) => {
      try {
        seen(JSON.parse(event.data) as TaskSnapshot);
      } catch {
        // not a task snapshot (a keep-alive)
      }
    };
    for (const name of ['task', 'end']) source.addEventListener(name, read as EventListener);
    // A stream cut before the end (a proxy, a restart): the task's detail is asked every second instead.
    source.onerror = () => {
      source.close();
      const ask = async () => {
        if (finished) return;
        try {
          seen((await data(api.GET('/api/v1/system/tasks/{id}', { params: { path: { id: taskId } } }))) as TaskSnapshot);
        } catch {
          // asked again below
        }
        if (!finished) poll = setTimeout(ask, 1000);
      };
      void ask();
    };
    return () => {
      finished = true;
      source.close();
      clearTimeout(poll);
    };
  }, [taskId]);

  const status = task?.status ?? 'queued';
  const progress = task?.progress;
  const percent =
    progress && progress.total > 0 ? Math.round((progress.current / progress.total) * 100) : status === 'succeeded' ? 100 : 0;
  const color = status === 'failed' ? 'red' : status === 'succeeded' ? 'green' : 'blue';
  return (
    <Paper withBorder p="sm" radius="md" data-testid="task-progress" data-status={status} aria-live="polite">
      <Text size="sm" fw={500}>
        {label}: {status}
        {progress ? ` (${progress.current}/${progress.total})` : ''}
      </Text>
      <Progress value={percent} color={color} animated={!FINISHED.has(status)} mt={6} aria-label={`${label} progress`} />
      {progress?.message && (
        <Text size="xs" c="dimmed" mt={4}>
          {progress.message}
        </Text>
      )}
      {task?.error && (
        <Text size="sm" c="red" mt={4}>
          {task.error.message}
        </Text>
      )}
    </Paper>
  );
}

export function ConfirmButton({
  label,
  onConfirm,
  color = 'red',
  ...rest
}: {
  label: string;
  onConfirm: () => void;
  color?: string;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <Button variant="light" color={color} onClick={() => setAsking(true)} {...rest}>
        {label}
      </Button>
    );
  return (
    <Button.Group>
      <Button
        color={color}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        Confirm {label.toLowerCase()}
      </Button>
      <Button variant="default" onClick={() => setAsking(false)}>
        Cancel
      </Button>
    </Button.Group>
  );
}
