import { Badge, Button, Card, Group, Image, SimpleGrid, Stack, Text } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, data } from '../api/client';
import { EmptyState, notifyError, QueryState, TaskProgress } from '../components/feedback';
import { useWorkspace } from '../session';
import { NeedsSector, PageHeader, Pager, STATUS_COLORS } from './common';

export function ImagesPage() {
  return (
    <>
      <PageHeader title="Images" description="Featured and in-article images of this sector's articles." />
      <NeedsSector>{(scope) => <ImageGrid scope={scope} />}</NeedsSector>
    </>
  );
}

function ImageGrid({ scope }: { scope: { site_id: number; sector_id: number } }) {
  const queryClient = useQueryClient();
  const { canWrite } = useWorkspace();
  const [page, setPage] = useState(1);
  const [task, setTask] = useState<number | null>(null);
  const query = { ...scope, page, page_size: 24 };
  const images = useQuery({
    queryKey: ['images', query],
    queryFn: () => data(api.GET('/api/v1/writer/images', { params: { query } })),
    placeholderData: keepPreviousData,
  });
  const generate = useMutation({
    mutationFn: (ids: number[]) => data(api.POST('/api/v1/writer/images/generate', { body: { ids } })),
    onSuccess: (result) => setTask(result.task_id),
    onError: notifyError,
  });
  const rows = images.data?.results ?? [];
  const pending = rows.filter((i) => i.status === 'pending' || i.status === 'failed').map((i) => i.id);
  return (
    <Stack>
      {canWrite && pending.length > 0 && (
        <Group>
          <Button onClick={() => generate.mutate(pending)} loading={generate.isPending}>
            Generate {pending.length} pending image{pending.length === 1 ? '' : 's'}
          </Button>
        </Group>
      )}
      {task && (
        <TaskProgress
          key={task}
          taskId={task}
          label="Generating images"
          invalidate={[['images'], ['credits']]}
          onFinished={() => void queryClient.invalidateQueries({ queryKey: ['images'] })}
        />
      )}
      <QueryState query={images}>
        {rows.length === 0 ? (
          <EmptyState title="No images yet">
            Images start as prompts written for an article (its Content page), then are generated here.
          </EmptyState>
        ) : (
          <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }}>
            {rows.map((image) => (
              <Card key={image.id} withBorder padding="sm">
                {image.url ? (
                  <Card.Section>
                    <Image src={image.url} alt={image.alt_text || image.prompt} h={160} fit="cover" />
                  </Card.Section>
                ) : (
                  <Text size="xs" c="dimmed" lineClamp={4}>
                    {image.prompt}
                  </Text>
                )}
                <Group justify="space-between" mt="xs">
                  <Badge color={STATUS_COLORS[image.status]} variant="light">
                    {image.status}
                  </Badge>
                  <Text size="xs" component={Link} to={`/content/${image.content_id}`}>
                    article #{image.content_id}
                  </Text>
                </Group>
                {image.error && (
                  <Text size="xs" c="red">
                    {image.error}
                  </Text>
                )}
              </Card>
            ))}
          </SimpleGrid>
        )}
        <Pager page={page} count={images.data?.count ?? 0} pageSize={24} onChange={setPage} />
      </QueryState>
    </Stack>
  );
}
