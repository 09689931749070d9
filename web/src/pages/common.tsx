import { Group, Pagination, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { EmptyState } from '../components/feedback';
import { useWorkspace } from '../session';

export function PageHeader({ title, description, actions }: { title: string; description?: string; actions?: ReactNode }) {
  return (
    <Group justify="space-between" align="flex-start" mb="md" wrap="wrap">
      <Stack gap={2}>
        <Title order={1} size="h2">
          {title}
        </Title>
        {description && (
          <Text c="dimmed" size="sm">
            {description}
          </Text>
        )}
      </Stack>
      {actions && <Group gap="xs">{actions}</Group>}
    </Group>
  );
}

/** Site-scoped screens need a site and a sector first: say so and link to where they are made. */
export function NeedsSector({ children }: { children: (ids: { site_id: number; sector_id: number }) => ReactNode }) {
  const { site, sector } = useWorkspace();
  if (!site || !sector)
    return (
      <EmptyState title={site ? 'This site has no sector yet' : 'No site yet'}>
        Keywords, clusters and content live in a sector of a site.{' '}
        <Link to="/sites">Create {site ? 'a sector' : 'a site and a sector'}</Link> first, then pick them at the top.
      </EmptyState>
    );
  return <>{children({ site_id: site.id, sector_id: sector.id })}</>;
}

export function Pager({
  page,
  count,
  pageSize,
  onChange,
}: {
  page: number;
  count: number | null;
  pageSize: number;
  onChange: (page: number) => void;
}) {
  const total = Math.max(1, Math.ceil((count ?? 0) / pageSize));
  return (
    <Group justify="space-between" mt="sm">
      <Text size="sm" c="dimmed">
        {count ?? 0} in all
      </Text>
      {total > 1 && (
        <Pagination
          value={page}
          total={total}
          onChange={onChange}
          size="sm"
          getControlProps={(control) => ({ 'aria-label': `${control} page` })}
        />
      )}
    </Group>
  );
}

export const formatDate = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

export const STATUS_COLORS: Record<string, string> = {
  new: 'gray',
  mapped: 'blue',
  archived: 'dark',
  queued: 'yellow',
  in_progress: 'blue',
  running: 'blue',
  completed: 'green',
  succeeded: 'green',
  failed: 'red',
  cancelled: 'dark',
  draft: 'gray',
  review: 'orange',
  approved: 'green',
  rejected: 'red',
  published: 'teal',
  ideas_generated: 'grape',
  suggested: 'yellow',
  applied: 'green',
  pending: 'gray',
  generating: 'blue',
  generated: 'green',
  publishing: 'blue',
  unpublished: 'dark',
  deploying: 'blue',
  deployed: 'green',
  rolled_back: 'dark',
  active: 'green',
  error: 'red',
  disabled: 'dark',
  paused: 'yellow',
};

/** Screens about a whole site (publishing, deployments, automation) need only a site. */
export function NeedsSite({ children }: { children: (site: { id: number; name: string }) => ReactNode }) {
  const { site } = useWorkspace();
  if (!site)
    return (
      <EmptyState title="No site yet">
        Publishing, deployments and automation belong to a site. <Link to="/sites">Create a site</Link> first, then pick it at the
        top.
      </EmptyState>
    );
  return <>{children(site)}</>;
}
