import {
  Accordion,
  Badge,
  Button,
  Code,
  Group,
  NumberInput,
  Paper,
  SimpleGrid,
  Stack,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, data } from '../api/client';
import { ErrorAlert, fieldError, notifyDone, notifyError, QueryState } from '../components/feedback';
import { useWorkspace } from '../session';
import { PageHeader } from './common';

type Settings = Awaited<ReturnType<typeof fetchSettings>>;
type Prompt = Awaited<ReturnType<typeof fetchPrompts>>['results'][number];
const fetchSettings = () => data(api.GET('/api/v1/system/settings'));
const fetchPrompts = () => data(api.GET('/api/v1/system/prompts', { params: { query: { page_size: 50 } } }));

export function AiSettingsPage() {
  const settings = useQuery({ queryKey: ['ai', 'settings'], queryFn: fetchSettings });
  const prompts = useQuery({ queryKey: ['ai', 'prompts'], queryFn: fetchPrompts });
  return (
    <>
      <PageHeader
        title="AI settings & prompts"
        description="How this account's articles are written: model, tone, language, and the prompt of each AI function."
      />
      <QueryState query={settings}>{settings.data && <SettingsForm settings={settings.data} />}</QueryState>
      <Title order={2} size="h4" mt="lg" mb="sm">
        Prompts
      </Title>
      <QueryState query={prompts}>
        <Accordion variant="separated">
          {prompts.data?.results.map((prompt) => (
            <Accordion.Item key={prompt.function} value={prompt.function}>
              <Accordion.Control>
                <Group>
                  <Text fw={500}>{prompt.function}</Text>
                  {prompt.is_default ? <Badge variant="light">default</Badge> : <Badge color="grape">customised</Badge>}
                </Group>
              </Accordion.Control>
              <Accordion.Panel>
                <PromptForm prompt={prompt} />
              </Accordion.Panel>
            </Accordion.Item>
          ))}
        </Accordion>
      </QueryState>
    </>
  );
}

function SettingsForm({ settings }: { settings: Settings }) {
  const queryClient = useQueryClient();
  const { canAdmin } = useWorkspace();
  const [form, setForm] = useState({
    model: settings.model ?? '',
    language: settings.language,
    tone: settings.tone,
    default_word_count: settings.default_word_count as number | string,
    brand_guidelines: settings.brand_guidelines,
  });
  const save = useMutation({
    mutationFn: () =>
      data(
        api.PATCH('/api/v1/system/settings', {
          body: {
            model: form.model.trim() || null,
            language: form.language,
            tone: form.tone,
            brand_guidelines: form.brand_guidelines,
            ...(typeof form.default_word_count === 'number' ? { default_word_count: form.default_word_count } : {}),
          },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['ai'] }).then(() => notifyDone('AI settings saved.')),
  });
  const check = useMutation({ mutationFn: () => data(api.POST('/api/v1/system/ai/check', {})), onError: notifyError });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const set = (key: keyof typeof form) => (value: string | number) => setForm((f) => ({ ...f, [key]: value }));
  return (
    <Paper withBorder p="md" component="form" onSubmit={submit} aria-label="AI settings">
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TextInput
          label="Chat model"
          placeholder={settings.default_model}
          description={`Empty: the installation's ${settings.default_model}`}
          value={form.model}
          onChange={(e) => set('model')(e.currentTarget.value)}
          error={fieldError(save.error, 'model')}
        />
        <TextInput
          label="Language"
          value={form.language}
          onChange={(e) => set('language')(e.currentTarget.value)}
          error={fieldError(save.error, 'language')}
        />
        <TextInput
          label="Tone"
          value={form.tone}
          onChange={(e) => set('tone')(e.currentTarget.value)}
          error={fieldError(save.error, 'tone')}
        />
        <NumberInput
          label="Default word count"
          min={100}
          value={form.default_word_count}
          onChange={set('default_word_count')}
          error={fieldError(save.error, 'default_word_count')}
        />
      </SimpleGrid>
      <Textarea
        mt="sm"
        label="Brand guidelines"
        autosize
        minRows={3}
        value={form.brand_guidelines}
        onChange={(e) => set('brand_guidelines')(e.currentTarget.value)}
        error={fieldError(save.error, 'brand_guidelines')}
      />
      <Stack mt="sm">
        <ErrorAlert error={save.error} shownFields={['model', 'language', 'tone', 'default_word_count', 'brand_guidelines']} />
        <Group>
          <Button type="submit" loading={save.isPending} disabled={!canAdmin}>
            Save settings
          </Button>
          <Button variant="default" onClick={() => check.mutate()} loading={check.isPending}>
            Check the AI provider
          </Button>
          {check.data && <Code>{JSON.stringify(check.data)}</Code>}
        </Group>
      </Stack>
    </Paper>
  );
}

function PromptForm({ prompt }: { prompt: Prompt }) {
  const queryClient = useQueryClient();
  const [system, setSystem] = useState(prompt.system_template);
  const [user, setUser] = useState(prompt.user_template);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['ai', 'prompts'] });
  const save = useMutation({
    mutationFn: () =>
      data(
        api.PATCH('/api/v1/system/prompts/{function}', {
          params: { path: { function: prompt.function } },
          body: { system_template: system, user_template: user },
        }),
      ),
    onSuccess: () => refresh().then(() => notifyDone(`Prompt "${prompt.function}" saved.`)),
  });
  const reset = useMutation({
    mutationFn: () =>
      data(api.POST('/api/v1/system/prompts/{function}/reset', { params: { path: { function: prompt.function } } })),
    onSuccess: (restored) => {
      setSystem(restored.system_template);
      setUser(restored.user_template);
      return refresh();
    },
    onError: notifyError,
  });
  return (
    <Stack gap="sm">
      <Text size="xs" c="dimmed">
        Variables: {prompt.variables.map((v) => `{{${v}}}`).join(', ')}
      </Text>
      <Textarea
        label="System template"
        autosize
        minRows={3}
        value={system}
        onChange={(e) => setSystem(e.currentTarget.value)}
        error={fieldError(save.error, 'system_template')}
      />
      <Textarea
        label="User template"
        autosize
        minRows={5}
        value={user}
        onChange={(e) => setUser(e.currentTarget.value)}
        error={fieldError(save.error, 'user_template')}
      />
      <ErrorAlert error={save.error} shownFields={['system_template', 'user_template']} />
      <Group>
        <Button size="xs" onClick={() => save.mutate()} loading={save.isPending}>
          Save prompt
        </Button>
        {!prompt.is_default && (
          <Button size="xs" variant="default" onClick={() => reset.mutate()}>
            Reset to default
          </Button>
        )}
      </Group>
    </Stack>
  );
}
