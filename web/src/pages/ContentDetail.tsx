import {
  Alert,
  Anchor,
  Badge,
  Button,
  Grid,
  Group,
  Paper,
  ScrollArea,
  Stack,
  Table,
  Tabs,
  Text,
  Textarea,
  TextInput,
  Title,
  Typography,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { diffWords } from 'diff';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError, api, data } from '../api/client';
import {
  ConfirmButton,
  EmptyState,
  ErrorAlert,
  fieldError,
  notifyDone,
  notifyError,
  QueryState,
  TaskProgress,
} from '../components/feedback';
import { useWorkspace } from '../session';
import { formatDate, PageHeader, STATUS_COLORS } from './common';

const STATUS_DONE: Record<string, string> = {
  review: 'Submitted for review: it waits in the review queue.',
  draft: 'Reopened as a draft.',
  archived: 'Archived.',
};

/** The article with its ETag: saving sends it back as If-Match, so a concurrent edit is a 412, never lost. */
async function fetchContent(id: number) {
  const result = await api.GET('/api/v1/writer/content/{id}', { params: { path: { id } } });
  if (!result.data) throw new Error('No article');
  return { article: result.data.data, etag: result.response.headers.get('etag') };
}
type Article = Awaited<ReturnType<typeof fetchContent>>['article'];

export function ContentDetailPage() {
  const id = Number(useParams().id);
  const content = useQuery({
    queryKey: ['content', id],
    queryFn: () => fetchContent(id),
    enabled: Number.isInteger(id) && id > 0,
  });
  return (
    <QueryState query={content}>
      {content.data && <ArticleView article={content.data.article} etag={content.data.etag} />}
    </QueryState>
  );
}

function ArticleView({ article, etag }: { article: Article; etag: string | null }) {
  const queryClient = useQueryClient();
  const { canWrite } = useWorkspace();
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['content'] });
  const [imageTask, setImageTask] = useState<number | null>(null);
  const [publishTask, setPublishTask] = useState<number | null>(null);
  const publish = useMutation({
    mutationFn: (status: 'publish' | 'draft') =>
      data(api.POST('/api/v1/publisher/publish', { body: { content_ids: [article.id], status } })),
    onSuccess: (result) => setPublishTask(result.task_id),
    onError: notifyError,
  });
  const imagePrompts = useMutation({
    mutationFn: () =>
      data(api.POST('/api/v1/writer/content/{id}/generate_image_prompts', { params: { path: { id: article.id } }, body: {} })),
    onSuccess: (task) => setImageTask(task.task_id),
    onError: notifyError,
  });
  const transition = useMutation({
    mutationFn: async (action: 'submit_for_review' | 'reopen' | 'archive') => {
      const path = { params: { path: { id: article.id } } };
      if (action === 'submit_for_review') return data(api.POST('/api/v1/writer/content/{id}/submit_for_review', path));
      if (action === 'reopen') return data(api.POST('/api/v1/writer/content/{id}/reopen', path));
      return data(api.POST('/api/v1/writer/content/{id}/archive', path));
    },
    onSuccess: (updated) =>
      refresh().then(() => notifyDone(STATUS_DONE[updated.status] ?? `The article is now ${updated.status}.`)),
    onError: notifyError,
  });
  return (
    <>
      <PageHeader
        title={article.title}
        description={`${article.word_count} words · primary keyword "${article.primary_keyword || '—'}" · updated ${formatDate(article.updated_at)}`}
        actions={
          <>
            <Badge size="lg" color={STATUS_COLORS[article.status]} data-testid="content-status">
              {article.status}
            </Badge>
            {canWrite && (
              <Button variant="default" onClick={() => imagePrompts.mutate()} loading={imagePrompts.isPending}>
                Write image prompts
              </Button>
            )}
            {canWrite && article.status === 'draft' && (
              <Button onClick={() => transition.mutate('submit_for_review')} loading={transition.isPending}>
                Submit for review
              </Button>
            )}
            {canWrite && article.status === 'rejected' && (
              <Button variant="light" onClick={() => transition.mutate('reopen')}>
                Reopen as draft
              </Button>
            )}
            {canWrite && (article.status === 'approved' || article.status === 'published') && (
              <>
                <Button onClick={() => publish.mutate('publish')} loading={publish.isPending && publish.variables === 'publish'}>
                  {article.status === 'published' ? 'Update on WordPress' : 'Publish'}
                </Button>
                <Button
                  variant="default"
                  onClick={() => publish.mutate('draft')}
                  loading={publish.isPending && publish.variables === 'draft'}
                >
                  Send as a WordPress draft
                </Button>
              </>
            )}
            {canWrite && article.status === 'review' && (
              <Button component={Link} to="/review" variant="light">
                Open the review queue
              </Button>
            )}
          </>
        }
      />
      {publishTask && (
        <Stack gap={4} mb="sm">
          <TaskProgress
            key={publishTask}
            taskId={publishTask}
            label="Publishing to WordPress"
            invalidate={[['content'], ['publishing-records']]}
            onFinished={(t) => {
              if (t.status === 'succeeded') notifyDone('Sent to WordPress: the publishing record links to the post.');
            }}
          />
          <Text size="sm">
            Its record, attempts and the link to the post are on the{' '}
            <Anchor component={Link} to="/publishing">
              Publishing
            </Anchor>{' '}
            screen.
          </Text>
        </Stack>
      )}
      {imageTask && (
        <Stack gap={4} mb="sm">
          <TaskProgress key={imageTask} taskId={imageTask} label="Writing image prompts" invalidate={[['images'], ['credits']]} />
          <Text size="sm">
            The prompts become pending images: generate them on the{' '}
            <Anchor component={Link} to="/images">
              Images
            </Anchor>{' '}
            screen.
          </Text>
        </Stack>
      )}
      {article.review_note && (
        <Alert color={article.status === 'rejected' ? 'red' : 'gray'} mb="sm" title="Reviewer's note">
          {article.review_note}
        </Alert>
      )}
      <Tabs defaultValue="preview" keepMounted={false}>
        <Tabs.List mb="sm">
          <Tabs.Tab value="preview">Preview</Tabs.Tab>
          {canWrite && <Tabs.Tab value="edit">Edit</Tabs.Tab>}
          <Tabs.Tab value="checks">SEO & readability</Tabs.Tab>
          <Tabs.Tab value="links">Internal links</Tabs.Tab>
          <Tabs.Tab value="versions">Versions</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="preview">
          <ArticlePreview article={article} />
        </Tabs.Panel>
        <Tabs.Panel value="edit">
          <ArticleEditor article={article} etag={etag} />
        </Tabs.Panel>
        <Tabs.Panel value="checks">
          <Checks id={article.id} />
        </Tabs.Panel>
        <Tabs.Panel value="links">
          <Links article={article} />
        </Tabs.Panel>
        <Tabs.Panel value="versions">
          <Versions article={article} />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}

/** The HTML exactly as the API returns it: sanitised on the way in by the server, whoever wrote it. */
export function ArticlePreview({ article }: { article: { html: string; meta_title: string; meta_description: string } }) {
  return (
    <Paper withBorder p="md">
      <Text size="xs" c="dimmed">
        Meta title: {article.meta_title || '—'}
      </Text>
      <Text size="xs" c="dimmed" mb="sm">
        Meta description: {article.meta_description || '—'}
      </Text>
      <Typography>
        {/* biome-ignore lint/security/noDangerouslySetInnerHtml: the API sanitises every article's html (an allowlist of tags) */}
        <div data-testid="article-preview" dangerouslySetInnerHTML={{ __html: article.html }} />
      </Typography>
    </Paper>
  );
}

function ArticleEditor({ article, etag }: { article: Article; etag: string | null }) {
  const queryClient = useQueryClient();
  const [title, setTitle] = useState(article.title);
  const [metaTitle, setMetaTitle] = useState(article.meta_title);
  const [metaDescription, setMetaDescription] = useState(article.meta_description);
  const [html, setHtml] = useState(article.html);
  // The version being edited: kept when the article reloads in the background, so a concurrent edit still shows as a conflict.
  const [editingEtag] = useState(etag);
  const save = useMutation({
    mutationFn: () =>
      data(
        api.PATCH('/api/v1/writer/content/{id}', {
          params: { path: { id: article.id } },
          body: { title, meta_title: metaTitle, meta_description: metaDescription, html },
          headers: editingEtag ? { 'If-Match': editingEtag } : {},
        }),
      ),
    onSuccess: () =>
      queryClient
        .invalidateQueries({ queryKey: ['content'] })
        .then(() => notifyDone('Saved; the previous text is kept as a version.')),
  });
  const conflict = save.error instanceof ApiError && save.error.status === 412;
  // The warning sits above the fields: brought into view and focused, or the Save click seems to do nothing.
  const warning = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!conflict) return;
    warning.current?.scrollIntoView({ block: 'center' });
    warning.current?.focus();
  }, [conflict]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const fields = ['title', 'meta_title', 'meta_description', 'html'];
  return (
    <form onSubmit={submit} aria-label="Edit the article">
      <Stack gap="sm">
        {conflict && (
          <Alert
            color="orange"
            title="Someone else changed this article"
            role="alert"
            data-testid="conflict-warning"
            ref={warning}
            tabIndex={-1}
          >
            <Text size="sm">
              The article changed since you opened the editor (412): saving now would overwrite their edit. Copy your changes,
              reload to see the current version, and apply them again.
            </Text>
            <Button mt="xs" size="xs" variant="light" onClick={() => window.location.reload()}>
              Reload the article
            </Button>
          </Alert>
        )}
        <TextInput
          label="Title"
          value={title}
          onChange={(e) => setTitle(e.currentTarget.value)}
          error={fieldError(save.error, 'title')}
          required
        />
        <TextInput
          label="Meta title"
          value={metaTitle}
          onChange={(e) => setMetaTitle(e.currentTarget.value)}
          error={fieldError(save.error, 'meta_title')}
        />
        <Textarea
          label="Meta description"
          autosize
          minRows={2}
          value={metaDescription}
          onChange={(e) => setMetaDescription(e.currentTarget.value)}
          error={fieldError(save.error, 'meta_description')}
        />
        <Textarea
          label="HTML"
          autosize
          minRows={12}
          maxRows={30}
          value={html}
          onChange={(e) => setHtml(e.currentTarget.value)}
          error={fieldError(save.error, 'html')}
          styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }}
        />
        {!conflict && <ErrorAlert error={save.error} shownFields={fields} />}
        <Group>
          <Button type="submit" loading={save.isPending}>
            Save
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

const CHECK_COLORS = { pass: 'green', warn: 'yellow', fail: 'red', not_applicable: 'gray' } as const;

function Checks({ id }: { id: number }) {
  const analysis = useQuery({
    queryKey: ['content', id, 'analysis'],
    queryFn: () => data(api.POST('/api/v1/optimizer/analyze', { body: { content_id: id } })),
  });
  return (
    <QueryState query={analysis}>
      {analysis.data && (
        <Stack gap="sm">
          <Group>
            <Badge size="xl" variant="light">
              Score {analysis.data.score}
            </Badge>
            <Text size="sm">SEO {analysis.data.seo_score ?? '— (no keyphrase)'}</Text>
            <Text size="sm">Readability {analysis.data.readability_score}</Text>
          </Group>
          <Grid>
            {(['seo', 'readability'] as const).map((group) => (
              <Grid.Col key={group} span={{ base: 12, md: 6 }}>
                <Title order={3} size="h5" mb="xs">
                  {group === 'seo' ? 'SEO' : 'Readability'}
                </Title>
                <Stack gap={6}>
                  {analysis.data.checks
                    .filter((c) => c.group === group)
                    .map((check) => (
                      <Group key={check.id} gap="xs" wrap="nowrap" align="flex-start">
                        <Badge color={CHECK_COLORS[check.status]} variant="light" w={90} style={{ flexShrink: 0 }}>
                          {check.status.replace('_', ' ')}
                        </Badge>
                        <Text size="sm">{check.message}</Text>
                      </Group>
                    ))}
                </Stack>
              </Grid.Col>
            ))}
          </Grid>
        </Stack>
      )}
    </QueryState>
  );
}

function Links({ article }: { article: Article }) {
  const queryClient = useQueryClient();
  const { canWrite } = useWorkspace();
  const [task, setTask] = useState<number | null>(null);
  const links = useQuery({
    queryKey: ['content', article.id, 'links'],
    queryFn: () => data(api.GET('/api/v1/linker/links', { params: { query: { source_id: article.id, page_size: 100 } } })),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['content'] });
  const suggest = useMutation({
    mutationFn: () => data(api.POST('/api/v1/linker/process', { body: { content_ids: [article.id], dry_run: true } })),
    onSuccess: (result) => setTask((result as { task_id: number }).task_id),
    onError: notifyError,
  });
  const decide = useMutation({
    mutationFn: ({ id, action }: { id: number; action: 'apply' | 'reject' }) =>
      action === 'apply'
        ? data(api.POST('/api/v1/linker/links/{id}/apply', { params: { path: { id } } }))
        : data(api.POST('/api/v1/linker/links/{id}/reject', { params: { path: { id } } })),
    onSuccess: () => refresh(),
    onError: notifyError,
  });
  const rows = links.data?.results ?? [];
  return (
    <Stack gap="sm">
      {canWrite && (
        <Group>
          <Button variant="light" onClick={() => suggest.mutate()} loading={suggest.isPending}>
            Suggest internal links
          </Button>
        </Group>
      )}
      {task && (
        <TaskProgress
          key={task}
          taskId={task}
          label="Finding links"
          invalidate={[['content', String(article.id)], ['content']]}
        />
      )}
      <QueryState query={links}>
        {rows.length === 0 ? (
          <EmptyState title="No link suggestions yet">
            Ask for suggestions: the linker looks for other articles of this site whose keywords appear in this one.
          </EmptyState>
        ) : (
          <Table aria-label="Link suggestions">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Anchor</Table.Th>
                <Table.Th>Context</Table.Th>
                <Table.Th>Target</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((link) => (
                <Table.Tr key={link.id}>
                  <Table.Td>{link.anchor}</Table.Td>
                  <Table.Td>
                    <Text size="xs">{link.context}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Anchor component={Link} to={`/content/${link.target_id}`}>
                      #{link.target_id}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <Badge color={STATUS_COLORS[link.status]} variant="light">
                      {link.status}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    {canWrite && link.status === 'suggested' && (
                      <Group gap={4} wrap="nowrap">
                        <Button size="compact-xs" onClick={() => decide.mutate({ id: link.id, action: 'apply' })}>
                          Apply
                        </Button>
                        <Button
                          size="compact-xs"
                          variant="default"
                          onClick={() => decide.mutate({ id: link.id, action: 'reject' })}
                        >
                          Reject
                        </Button>
                      </Group>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </QueryState>
    </Stack>
  );
}

function Versions({ article }: { article: Article }) {
  const queryClient = useQueryClient();
  const { canWrite } = useWorkspace();
  const [chosen, setChosen] = useState<number | null>(null);
  const versions = useQuery({
    queryKey: ['content', article.id, 'versions'],
    queryFn: () =>
      data(
        api.GET('/api/v1/writer/content/{id}/versions', {
          params: { path: { id: article.id }, query: { ordering: '-number', page_size: 100 } },
        }),
      ),
  });
  useEffect(() => {
    if (chosen === null && versions.data?.results[0]) setChosen(versions.data.results[0].number);
  }, [versions.data, chosen]);
  const version = useQuery({
    queryKey: ['content', article.id, 'versions', chosen],
    queryFn: () =>
      data(
        api.GET('/api/v1/writer/content/{id}/versions/{number}', { params: { path: { id: article.id, number: chosen ?? 0 } } }),
      ),
    enabled: chosen !== null,
  });
  const restore = useMutation({
    mutationFn: (number: number) =>
      data(api.POST('/api/v1/writer/content/{id}/versions/{number}/restore', { params: { path: { id: article.id, number } } })),
    onSuccess: () =>
      queryClient
        .invalidateQueries({ queryKey: ['content'] })
        .then(() => notifyDone('Version restored; the text it replaced is kept as a version too.')),
    onError: notifyError,
  });
  const rows = versions.data?.results ?? [];
  return (
    <QueryState query={versions}>
      {rows.length === 0 ? (
        <EmptyState title="No earlier versions">
          Every edit keeps the text it replaces here, so you can compare and restore it.
        </EmptyState>
      ) : (
        <Grid>
          <Grid.Col span={{ base: 12, md: 4 }}>
            <Stack gap={4}>
              {rows.map((v) => (
                <Button
                  key={v.id}
                  variant={v.number === chosen ? 'light' : 'subtle'}
                  justify="space-between"
                  onClick={() => setChosen(v.number)}
                  fullWidth
                >
                  v{v.number} · {v.reason} · {new Date(v.created_at).toLocaleString()}
                </Button>
              ))}
            </Stack>
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 8 }}>
            <QueryState query={{ isPending: version.isPending && chosen !== null, error: version.error }}>
              {version.data && (
                <Stack gap="xs">
                  <Group justify="space-between">
                    <Text size="sm">
                      Changes from v{version.data.number} to the current text:{' '}
                      <span style={{ background: '#d3f9d8' }}>added</span>,{' '}
                      <span style={{ background: '#ffe3e3', textDecoration: 'line-through' }}>removed</span>.
                    </Text>
                    {canWrite && (
                      <ConfirmButton
                        label={`Restore v${version.data.number}`}
                        color="blue"
                        onConfirm={() => restore.mutate(version.data.number)}
                      />
                    )}
                  </Group>
                  <Diff before={`${version.data.title}\n\n${version.data.html}`} after={`${article.title}\n\n${article.html}`} />
                </Stack>
              )}
            </QueryState>
          </Grid.Col>
        </Grid>
      )}
      {restore.error ? <ErrorAlert error={restore.error} /> : null}
    </QueryState>
  );
}

function Diff({ before, after }: { before: string; after: string }) {
  const parts = diffWords(before, after);
  return (
    <ScrollArea.Autosize mah={500}>
      <Paper
        withBorder
        p="sm"
        data-testid="version-diff"
        style={{ whiteSpace: 'pre-wrap', fontFamily: 'monospace', fontSize: 12 }}
      >
        {parts.map((part, index) => (
          <span
            // biome-ignore lint/suspicious/noArrayIndexKey: a diff's parts have no identity but their place
            key={index}
            style={
              part.added
                ? { background: '#d3f9d8' }
                : part.removed
                  ? { background: '#ffe3e3', textDecoration: 'line-through' }
                  : undefined
            }
          >
            {part.value}
          </span>
        ))}
      </Paper>
    </ScrollArea.Autosize>
  );
}
