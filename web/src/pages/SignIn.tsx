import { Alert, Anchor, Button, Center, Paper, PasswordInput, Stack, Tabs, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, data } from '../api/client';
import { ErrorAlert, fieldError } from '../components/feedback';
import { rememberRefresh } from '../session';

/** Sign in or register; both start a cookie session (`session: true`), so the console never holds an access token. */
export function SignInPage({ notice }: { notice?: string }) {
  const queryClient = useQueryClient();
  const [tab, setTab] = useState<string | null>('signin');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [accountName, setAccountName] = useState('');
  const signedIn = (tokens: { refresh: string }) => {
    rememberRefresh(tokens.refresh);
    void queryClient.invalidateQueries();
  };
  const signIn = useMutation({
    mutationFn: () => data(api.POST('/api/v1/auth/login', { body: { email, password, session: true } })),
    onSuccess: signedIn,
  });
  const register = useMutation({
    mutationFn: async () => {
      await data(api.POST('/api/v1/auth/register', { body: { email, password, account_name: accountName } }));
      // Registration answers tokens only; signing in with the same password starts the cookie session.
      return data(api.POST('/api/v1/auth/login', { body: { email, password, session: true } }));
    },
    onSuccess: signedIn,
  });
  const active = tab === 'register' ? register : signIn;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    active.mutate();
  };
  return (
    <Center mih="100vh" p="md" bg="gray.0">
      <Paper withBorder shadow="sm" p="xl" w="100%" maw={420} component="main">
        <Title order={1} size="h2" mb={4}>
          ContentFlow
        </Title>
        <Text c="dimmed" size="sm" mb="md">
          Keywords to reviewed, optimised articles.
        </Text>
        {notice && (
          <Alert color="yellow" mb="md">
            {notice}
          </Alert>
        )}
        <Tabs
          value={tab}
          onChange={(value) => {
            setTab(value);
            signIn.reset();
            register.reset();
          }}
        >
          <Tabs.List grow mb="md">
            <Tabs.Tab value="signin">Sign in</Tabs.Tab>
            <Tabs.Tab value="register">Create an account</Tabs.Tab>
          </Tabs.List>
        </Tabs>
        <form onSubmit={submit} aria-label={tab === 'register' ? 'Create an account' : 'Sign in'}>
          <Stack>
            {tab === 'register' && (
              <TextInput
                label="Team or company name"
                required
                value={accountName}
                onChange={(e) => setAccountName(e.currentTarget.value)}
                error={fieldError(active.error, 'account_name')}
              />
            )}
            <TextInput
              label="Email"
              type="email"
              autoComplete="username"
              required
              data-autofocus
              autoFocus
              value={email}
              onChange={(e) => setEmail(e.currentTarget.value)}
              error={fieldError(active.error, 'email')}
            />
            <PasswordInput
              label="Password"
              autoComplete={tab === 'register' ? 'new-password' : 'current-password'}
              required
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
              error={fieldError(active.error, 'password')}
              description={tab === 'register' ? '8 to 128 characters, not a common password.' : undefined}
            />
            <ErrorAlert error={active.error} shownFields={['email', 'password', 'account_name']} />
            <Button type="submit" loading={active.isPending}>
              {tab === 'register' ? 'Create the account' : 'Sign in'}
            </Button>
            <Text size="xs" c="dimmed">
              Everything here goes through the public API: see the <Anchor href="/api/docs">API docs</Anchor>.
            </Text>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
