import { Button, Code, Group, Table, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../api/client';
import { EmptyState, QueryState } from '../components/feedback';
import { formatDate, PageHeader } from './common';

/** The account's feed, newest first, by cursor (its cost does not grow with depth). */
export function EventsPage() {
  const [type, setType] = useState('');
  const [debounced] = useDebouncedValue(type, 300);
  const events = useInfiniteQuery({
    queryKey: ['events', debounced],
    initialPageParam: '',
    queryFn: ({ pageParam }) =>
      data(
        api.GET('/api/v1/events', {
          params: { query: { cursor: pageParam, page_size: 50, ...(debounced ? { type: debounced } : {}) } },
        }),
      ),
    getNextPageParam: (last) =>
      last.next ? (new URL(last.next, window.location.origin).searchParams.get('cursor') ?? undefined) : undefined,
  });
  const rows = events.data?.pages.flatMap((p) => p.results) ?? [];
  return (
    <>
      <PageHeader title="Events" description="Everything that changed in this account, for people and agents." />
      <TextInput
        label="Type"
        placeholder="content.approved"
        value={type}
        onChange={(e) => setType(e.currentTarget.value)}
        w={240}
        mb="sm"
      />
      <QueryState query={events}>
        {rows.length === 0 ? (
          <EmptyState title="No events">
            Events appear as you and your agents work: sites made, keywords imported, articles approved.
          </EmptyState>
        ) : (
          <Table.ScrollContainer minWidth={640}>
            <Table striped aria-label="Events" data-testid="events-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>Type</Table.Th>
                  <Table.Th>Object</Table.Th>
                  <Table.Th>Details</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((event) => (
                  <Table.Tr key={event.id}>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDate(event.created_at)}</Table.Td>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>
                      <Code>{event.type}</Code>
                    </Table.Td>
                    <Table.Td>
                      {event.object_type} #{event.object_id}
                    </Table.Td>
                    <Table.Td>
                      <Text size="xs" ff="monospace" lineClamp={2} style={{ wordBreak: 'break-all' }}>
                        {JSON.stringify(event.payload)}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        <Group mt="sm">
          {events.hasNextPage ? (
            <Button variant="default" onClick={() => events.fetchNextPage()} loading={events.isFetchingNextPage}>
              Older events
            </Button>
          ) : (
            rows.length > 0 && (
              <Text size="sm" c="dimmed">
                That is all.
              </Text>
            )
          )}
        </Group>
      </QueryState>
    </>
  );
}
