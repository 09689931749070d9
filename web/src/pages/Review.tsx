import { Badge, Button, Group, Modal, Paper, Spoiler, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, data } from '../api/client';
import { EmptyState, ErrorAlert, fieldError, notifyDone, QueryState } from '../components/feedback';
import { useWorkspace } from '../session';
import { ArticlePreview } from './ContentDetail';
import { formatDate, PageHeader, Pager } from './common';

export function ReviewPage() {
  const { site } = useWorkspace();
  const [page, setPage] = useState(1);
  const query = { page, page_size: 20, ...(site ? { site_id: site.id } : {}) };
  const queue = useQuery({
    queryKey: ['approvals', query],
    queryFn: () => data(api.GET('/api/v1/writer/approvals', { params: { query } })),
  });
  const rows = queue.data?.results ?? [];
  return (
    <>
      <PageHeader
        title="Review queue"
        description="Articles submitted for review. Approve, reject with a note, or fix and approve in one go (override)."
      />
      <QueryState query={queue}>
        {rows.length === 0 ? (
          <EmptyState title="Nothing to review">
            Articles arrive here when someone submits a draft for review from its <Link to="/content">Content</Link> page.
          </EmptyState>
        ) : (
          <Stack gap="md" data-testid="review-queue">
            {rows.map((item) => (
              <Paper key={item.id} withBorder p="md" component="article" aria-label={item.title}>
                <Group justify="space-between" wrap="wrap" mb="xs">
                  <Title order={2} size="h4">
                    {item.title}
                  </Title>
                  <Text size="xs" c="dimmed">
                    {item.word_count} words · submitted {formatDate(item.submitted_at)}
                  </Text>
                </Group>
                <ReviewItem id={item.id} />
              </Paper>
            ))}
          </Stack>
        )}
        <Pager page={page} count={queue.data?.count ?? 0} pageSize={20} onChange={setPage} />
      </QueryState>
    </>
  );
}

function ReviewItem({ id }: { id: number }) {
  const queryClient = useQueryClient();
  const { canWrite } = useWorkspace();
  const [note, setNote] = useState('');
  const [overriding, setOverriding] = useState(false);
  const article = useQuery({
    // A key of its own: the content screen caches the article with its ETag under ['content', id].
    queryKey: ['content', id, 'review'],
    queryFn: async () => ({ article: await data(api.GET('/api/v1/writer/content/{id}', { params: { path: { id } } })) }),
  });
  const done = (message: string) => async () => {
    await queryClient.invalidateQueries({ queryKey: ['approvals'] });
    await queryClient.invalidateQueries({ queryKey: ['content'] });
    notifyDone(message);
  };
  const approve = useMutation({
    mutationFn: () =>
      // 200 with the article, or 202 with the publishing task when `publish` is asked for: either way, approved.
      data<unknown>(api.POST('/api/v1/writer/approvals/{id}/approve', { params: { path: { id } }, body: note ? { note } : {} })),
    onSuccess: done('Approved.'),
  });
  const reject = useMutation({
    mutationFn: () => data(api.POST('/api/v1/writer/approvals/{id}/reject', { params: { path: { id } }, body: { note } })),
    onSuccess: done('Rejected; the writer sees your note.'),
  });
  const error = approve.error ?? reject.error;
  return (
    <QueryState query={article}>
      {article.data && (
        <Stack gap="sm">
          <Spoiler maxHeight={220} showLabel="Show the whole article" hideLabel="Show less">
            <ArticlePreview article={article.data.article} />
          </Spoiler>
          {canWrite ? (
            <>
              <Textarea
                label="Note to the writer"
                description="Required to reject; optional to approve."
                value={note}
                onChange={(e) => setNote(e.currentTarget.value)}
                error={fieldError(reject.error, 'note')}
                autosize
                minRows={2}
              />
              <ErrorAlert error={error} shownFields={['note']} />
              <Group>
                <Button color="green" onClick={() => approve.mutate()} loading={approve.isPending}>
                  Approve
                </Button>
                <Button color="red" variant="light" onClick={() => reject.mutate()} loading={reject.isPending}>
                  Reject
                </Button>
                <Button variant="default" onClick={() => setOverriding(true)}>
                  Edit and approve…
                </Button>
              </Group>
            </>
          ) : (
            <Badge>Viewers cannot review</Badge>
          )}
          <Modal opened={overriding} onClose={() => setOverriding(false)} title="Edit and approve (override)" size="xl">
            <OverrideForm
              id={id}
              article={article.data.article}
              onDone={() => {
                setOverriding(false);
                void done('Edited and approved.')();
              }}
            />
          </Modal>
        </Stack>
      )}
    </QueryState>
  );
}

function OverrideForm({ id, article, onDone }: { id: number; article: { title: string; html: string }; onDone: () => void }) {
  const [title, setTitle] = useState(article.title);
  const [html, setHtml] = useState(article.html);
  const [note, setNote] = useState('');
  const save = useMutation({
    mutationFn: () =>
      data(
        api.POST('/api/v1/writer/approvals/{id}/override', {
          params: { path: { id } },
          body: { title, html, ...(note ? { note } : {}) },
        }),
      ),
    onSuccess: onDone,
  });
  return (
    <Stack gap="sm">
      <TextInput
        label="Title"
        value={title}
        onChange={(e) => setTitle(e.currentTarget.value)}
        error={fieldError(save.error, 'title')}
      />
      <Textarea
        label="HTML"
        autosize
        minRows={10}
        maxRows={24}
        value={html}
        onChange={(e) => setHtml(e.currentTarget.value)}
        error={fieldError(save.error, 'html')}
        styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }}
      />
      <Textarea
        label="Note"
        value={note}
        onChange={(e) => setNote(e.currentTarget.value)}
        error={fieldError(save.error, 'note')}
      />
      <ErrorAlert error={save.error} shownFields={['title', 'html', 'note']} />
      <Button onClick={() => save.mutate()} loading={save.isPending}>
        Save and approve
      </Button>
    </Stack>
  );
}
