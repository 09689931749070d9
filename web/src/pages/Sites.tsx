import { Badge, Button, Card, Group, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, data } from '../api/client';
import { ConfirmButton, EmptyState, ErrorAlert, fieldError, notifyDone, notifyError } from '../components/feedback';
import { type Site, useWorkspace } from '../session';
import { PageHeader } from './common';

export function SitesPage() {
  const { sites, sectors, canAdmin } = useWorkspace();
  return (
    <>
      <PageHeader
        title="Sites & sectors"
        description="Each site holds sectors; keywords, clusters and articles live in a sector."
      />
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
        {canAdmin ? <NewSiteForm /> : <Text c="dimmed">Only owners and admins add sites.</Text>}
        {sites.length === 0 && (
          <EmptyState title="No site yet">
            Create your first site (a name is enough; the URL is where its articles get published).
          </EmptyState>
        )}
        {sites.map((site) => (
          <SiteCard key={site.id} site={site} sectors={sectors.filter((s) => s.site_id === site.id)} />
        ))}
      </SimpleGrid>
    </>
  );
}

function NewSiteForm() {
  const queryClient = useQueryClient();
  const { selectSite } = useWorkspace();
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const create = useMutation({
    mutationFn: () => data(api.POST('/api/v1/auth/sites', { body: { name, ...(url ? { url } : {}) } })),
    onSuccess: async (site) => {
      setName('');
      setUrl('');
      await queryClient.invalidateQueries({ queryKey: ['sites'] });
      selectSite(site.id);
      notifyDone(`Site "${site.name}" created. Add a sector to it next.`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <Card withBorder component="form" onSubmit={submit} aria-label="New site">
      <Title order={2} size="h4" mb="sm">
        New site
      </Title>
      <Stack gap="sm">
        <TextInput
          label="Site name"
          required
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={fieldError(create.error, 'name')}
        />
        <TextInput
          label="URL"
          placeholder="https://blog.example.com"
          value={url}
          onChange={(e) => setUrl(e.currentTarget.value)}
          error={fieldError(create.error, 'url')}
        />
        <ErrorAlert error={create.error} shownFields={['name', 'url']} />
        <Button type="submit" loading={create.isPending}>
          Create site
        </Button>
      </Stack>
    </Card>
  );
}

function SiteCard({ site, sectors }: { site: Site; sectors: { id: number; name: string; slug: string }[] }) {
  const queryClient = useQueryClient();
  const { canAdmin, selectSite, selectSector } = useWorkspace();
  const [name, setName] = useState('');
  const addSector = useMutation({
    mutationFn: () => data(api.POST('/api/v1/auth/sectors', { body: { site_id: site.id, name } })),
    onSuccess: async (sector) => {
      setName('');
      await queryClient.invalidateQueries({ queryKey: ['sectors'] });
      selectSite(site.id);
      selectSector(sector.id);
      notifyDone(`Sector "${sector.name}" added. Import keywords into it next.`);
    },
  });
  const remove = useMutation({
    mutationFn: () => api.DELETE('/api/v1/auth/sites/{id}', { params: { path: { id: site.id } } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['sites'] }),
    onError: notifyError,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    addSector.mutate();
  };
  return (
    <Card withBorder data-testid={`site-${site.slug}`}>
      <Group justify="space-between" mb="xs">
        <div>
          <Title order={2} size="h4">
            {site.name}
          </Title>
          <Text size="xs" c="dimmed">
            {site.url || 'no URL yet'} · {site.slug}
          </Text>
        </div>
        {canAdmin && <ConfirmButton label="Delete site" onConfirm={() => remove.mutate()} />}
      </Group>
      <Group gap={6} mb="sm">
        {sectors.length === 0 ? (
          <Text size="sm" c="dimmed">
            No sector yet: add one below (e.g. "trail running").
          </Text>
        ) : (
          sectors.map((s) => (
            <Badge key={s.id} variant="light">
              {s.name}
            </Badge>
          ))
        )}
      </Group>
      {canAdmin && (
        <form onSubmit={submit} aria-label={`New sector for ${site.name}`}>
          <Group align="flex-start" gap="xs">
            <TextInput
              label="Sector name"
              required
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              error={fieldError(addSector.error, 'name')}
              style={{ flex: 1 }}
            />
            <Button type="submit" mt={25} loading={addSector.isPending}>
              Add sector
            </Button>
          </Group>
          <ErrorAlert error={addSector.error} shownFields={['name']} />
        </form>
      )}
    </Card>
  );
}
