import { Alert, Button, Code, Group, Paper, Select, Stack, Table, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, data } from '../api/client';
import { ConfirmButton, ErrorAlert, fieldError, notifyError, QueryState } from '../components/feedback';
import { useWorkspace } from '../session';
import { formatDate, PageHeader } from './common';

const ROLES = ['owner', 'admin', 'editor', 'viewer'] as const;
type Role = (typeof ROLES)[number];

export function TeamPage() {
  const queryClient = useQueryClient();
  const { canAdmin, me } = useWorkspace();
  const team = useQuery({
    queryKey: ['team'],
    queryFn: () => data(api.GET('/api/v1/account/team', { params: { query: { page_size: 200 } } })),
  });
  const changeRole = useMutation({
    mutationFn: ({ id, role }: { id: number; role: Role }) =>
      data(api.PATCH('/api/v1/account/team/{id}', { params: { path: { id } }, body: { role } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['team'] }),
    onError: notifyError,
  });
  const remove = useMutation({
    mutationFn: (id: number) => api.DELETE('/api/v1/account/team/{id}', { params: { path: { id } } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['team'] }),
    onError: notifyError,
  });
  return (
    <>
      <PageHeader title="Team" description="Owners and admins manage members; editors write; viewers read." />
      {canAdmin && <InviteForm />}
      <QueryState query={team}>
        <Table.ScrollContainer minWidth={560}>
          <Table striped aria-label="Members">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Email</Table.Th>
                <Table.Th>Name</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th>Joined</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {team.data?.results.map((member) => (
                <Table.Tr key={member.id}>
                  <Table.Td>{member.email}</Table.Td>
                  <Table.Td>{`${member.first_name} ${member.last_name}`.trim() || '—'}</Table.Td>
                  <Table.Td>
                    {canAdmin ? (
                      <Select
                        aria-label={`Role of ${member.email}`}
                        size="xs"
                        w={120}
                        data={[...ROLES]}
                        value={member.role}
                        allowDeselect={false}
                        onChange={(role) => role && changeRole.mutate({ id: member.id, role: role as Role })}
                      />
                    ) : (
                      member.role
                    )}
                  </Table.Td>
                  <Table.Td>{formatDate(member.joined_at)}</Table.Td>
                  <Table.Td>
                    {canAdmin && member.id !== me.user?.id && (
                      <ConfirmButton label="Remove" onConfirm={() => remove.mutate(member.id)} />
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </QueryState>
    </>
  );
}

function InviteForm() {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('editor');
  const invite = useMutation({ mutationFn: () => data(api.POST('/api/v1/account/team/invite', { body: { email, role } })) });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    invite.mutate();
  };
  return (
    <Paper withBorder p="md" mb="md" component="form" onSubmit={submit} aria-label="Invite a member">
      <Title order={2} size="h4" mb="sm">
        Invite someone
      </Title>
      <Group align="flex-start">
        <TextInput
          label="Email"
          type="email"
          required
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
          error={fieldError(invite.error, 'email')}
        />
        <Select
          label="Role"
          data={ROLES.filter((r) => r !== 'owner')}
          value={role}
          onChange={(r) => r && setRole(r as Role)}
          allowDeselect={false}
          w={130}
          error={fieldError(invite.error, 'role')}
        />
        <Button type="submit" mt={25} loading={invite.isPending}>
          Send invitation
        </Button>
      </Group>
      <Stack mt="sm">
        <ErrorAlert error={invite.error} shownFields={['email', 'role']} />
        {invite.data && (
          <Alert color="green" title="Invitation sent">
            Valid 7 days. They can also open: <Code>{invite.data.accept_url}</Code>
          </Alert>
        )}
      </Stack>
    </Paper>
  );
}
