import { Alert, Badge, Button, Checkbox, Code, CopyButton, Group, Paper, Stack, Table, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, data } from '../api/client';
import { ConfirmButton, EmptyState, ErrorAlert, fieldError, notifyError, QueryState } from '../components/feedback';
import { useWorkspace } from '../session';
import { formatDate, PageHeader } from './common';

type Scope = 'read' | 'write' | 'admin';

export function ApiKeysPage() {
  const queryClient = useQueryClient();
  const { canAdmin } = useWorkspace();
  const keys = useQuery({
    queryKey: ['api-keys'],
    queryFn: () => data(api.GET('/api/v1/account/api-keys', { params: { query: { page_size: 200 } } })),
  });
  const revoke = useMutation({
    mutationFn: (id: number) => api.DELETE('/api/v1/account/api-keys/{id}', { params: { path: { id } } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['api-keys'] }),
    onError: notifyError,
  });
  const rows = keys.data?.results ?? [];
  return (
    <>
      <PageHeader
        title="API keys"
        description="For agents, scripts and the WordPress bridge. A key is shown once, when it is made."
      />
      {canAdmin && <NewKeyForm />}
      <QueryState query={keys}>
        {rows.length === 0 ? (
          <EmptyState title="No API keys">Create one to let a script or agent use the API as this account.</EmptyState>
        ) : (
          <Table.ScrollContainer minWidth={560}>
            <Table striped aria-label="API keys">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Prefix</Table.Th>
                  <Table.Th>Scopes</Table.Th>
                  <Table.Th>Last used</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((key) => (
                  <Table.Tr key={key.id}>
                    <Table.Td>{key.name}</Table.Td>
                    <Table.Td>
                      <Code>{key.prefix}…</Code>
                    </Table.Td>
                    <Table.Td>
                      {key.scopes.map((s) => (
                        <Badge key={s} variant="light" mr={4}>
                          {s}
                        </Badge>
                      ))}
                    </Table.Td>
                    <Table.Td>{formatDate(key.last_used_at)}</Table.Td>
                    <Table.Td>{canAdmin && <ConfirmButton label="Revoke" onConfirm={() => revoke.mutate(key.id)} />}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
    </>
  );
}

function NewKeyForm() {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['read', 'write']);
  const create = useMutation({
    mutationFn: () => data(api.POST('/api/v1/account/api-keys', { body: { name, scopes } })),
    onSuccess: () => {
      setName('');
      return queryClient.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <Paper withBorder p="md" mb="md" component="form" onSubmit={submit} aria-label="New API key">
      <Title order={2} size="h4" mb="sm">
        New key
      </Title>
      <Group align="flex-end">
        <TextInput
          label="Name"
          required
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={fieldError(create.error, 'name')}
        />
        <Checkbox.Group
          label="Scopes"
          value={scopes}
          onChange={(v) => setScopes(v as Scope[])}
          error={fieldError(create.error, 'scopes')}
        >
          <Group mt={6}>
            <Checkbox value="read" label="read" />
            <Checkbox value="write" label="write" />
            <Checkbox value="admin" label="admin" />
          </Group>
        </Checkbox.Group>
        <Button type="submit" loading={create.isPending}>
          Create key
        </Button>
      </Group>
      <Stack mt="sm">
        <ErrorAlert error={create.error} shownFields={['name', 'scopes']} />
        {create.data?.key && (
          <Alert color="yellow" title="Copy the key now: it is not shown again" data-testid="new-api-key">
            <Group>
              <Code>{create.data.key}</Code>
              <CopyButton value={create.data.key}>
                {({ copied, copy }) => (
                  <Button size="xs" onClick={copy}>
                    {copied ? 'Copied' : 'Copy'}
                  </Button>
                )}
              </CopyButton>
            </Group>
          </Alert>
        )}
      </Stack>
    </Paper>
  );
}
