import {
  Anchor,
  Badge,
  Button,
  Checkbox,
  FileInput,
  Group,
  Modal,
  NumberInput,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  UnstyledButton,
} from '@mantine/core';
import { useDebouncedValue, useDisclosure } from '@mantine/hooks';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  createColumnHelper,
  type RowSelectionState,
  rowSelectionFeature,
  rowSortingFeature,
  type SortingState,
  tableFeatures,
  useTable,
} from '@tanstack/react-table';
import { type FormEvent, useMemo, useState } from 'react';
import { Link } from 'react-router';
import { api, data, toApiError } from '../api/client';
import type { paths } from '../api/schema';
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
import { NeedsSector, PageHeader, Pager, STATUS_COLORS } from './common';

type KeywordQuery = NonNullable<paths['/api/v1/planner/keywords']['get']['parameters']['query']>;
type Keyword = Awaited<ReturnType<typeof listKeywords>>['results'][number];
/** The import's answer; the file goes up as multipart, which the typed client does not build. */
type ImportResult = paths['/api/v1/planner/keywords/import']['post']['responses'][200]['content']['application/json']['data'];

const listKeywords = (query: KeywordQuery) => data(api.GET('/api/v1/planner/keywords', { params: { query } }));

const features = tableFeatures({ rowSortingFeature, rowSelectionFeature });
const helper = createColumnHelper<typeof features, Keyword>();
const SORTABLE = new Set(['keyword', 'volume', 'difficulty', 'cpc', 'created_at']);
const columns = helper.columns([
  helper.display({ id: 'select', header: 'select' }),
  helper.accessor('keyword', { header: 'Keyword' }),
  helper.accessor('volume', { header: 'Volume' }),
  helper.accessor('difficulty', { header: 'Difficulty' }),
  helper.accessor('cpc', { header: 'CPC' }),
  helper.accessor('intent', { header: 'Intent' }),
  helper.accessor('status', { header: 'Status' }),
  helper.accessor('cluster_id', { header: 'Cluster' }),
  helper.accessor('created_at', { header: 'Added' }),
]);
const noRows: Keyword[] = [];

export function KeywordsPage() {
  return (
    <>
      <PageHeader title="Keywords" description="Import, filter and cluster the searches you want to rank for." />
      <NeedsSector>{(scope) => <KeywordsTable scope={scope} />}</NeedsSector>
    </>
  );
}

function KeywordsTable({ scope }: { scope: { site_id: number; sector_id: number } }) {
  const queryClient = useQueryClient();
  const { canWrite } = useWorkspace();
  const [search, setSearch] = useState('');
  const [debouncedSearch] = useDebouncedValue(search, 300);
  const [status, setStatus] = useState<string | null>(null);
  const [intent, setIntent] = useState<string | null>(null);
  const [minVolume, setMinVolume] = useState<number | string>('');
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(50);
  const [sorting, setSorting] = useState<SortingState>([{ id: 'volume', desc: true }]);
  const [rowSelection, setRowSelection] = useState<RowSelectionState>({});
  const [clusterTask, setClusterTask] = useState<{ id: number; method: string } | null>(null);
  const [importOpen, importModal] = useDisclosure(false);

  const filters = useMemo(() => {
    const query: KeywordQuery = { ...scope };
    if (debouncedSearch.trim()) query.search = debouncedSearch.trim();
    if (status) query.status = status as KeywordQuery['status'];
    if (intent) query.intent = intent as KeywordQuery['intent'];
    if (typeof minVolume === 'number') query.volume__gte = minVolume;
    return query;
  }, [scope, debouncedSearch, status, intent, minVolume]);
  const ordering = sorting.map((s) => `${s.desc ? '-' : ''}${s.id}`).join(',') || undefined;
  const query = { ...filters, page, page_size: pageSize, ...(ordering ? { ordering } : {}) };
  const keywords = useQuery({
    queryKey: ['keywords', query],
    queryFn: () => listKeywords(query),
    placeholderData: keepPreviousData,
  });

  const table = useTable({
    features,
    columns,
    data: keywords.data?.results ?? noRows,
    getRowId: (row) => String(row.id),
    manualSorting: true,
    enableMultiSort: false,
    state: { sorting, rowSelection },
    onSortingChange: (updater) => {
      setSorting(updater);
      setPage(1);
    },
    onRowSelectionChange: setRowSelection,
  });
  const selectedIds = Object.keys(rowSelection)
    .filter((id) => rowSelection[id])
    .map(Number);
  const refresh = () => {
    setRowSelection({});
    return queryClient.invalidateQueries({ queryKey: ['keywords'] });
  };

  const bulkDelete = useMutation({
    mutationFn: () => data(api.POST('/api/v1/planner/keywords/bulk_delete', { body: { ids: selectedIds } })),
    onSuccess: (result) => refresh().then(() => notifyDone(`${result.deleted} keywords deleted.`)),
    onError: notifyError,
  });
  const bulkStatus = useMutation({
    mutationFn: (to: 'archived' | 'new') =>
      data(api.POST('/api/v1/planner/keywords/bulk_update', { body: { ids: selectedIds, status: to } })),
    onSuccess: (result) => refresh().then(() => notifyDone(`${result.updated} keywords updated.`)),
    onError: notifyError,
  });
  const cluster = useMutation({
    mutationFn: (method: 'lexical' | 'ai') =>
      data(
        api.POST('/api/v1/planner/keywords/auto_cluster', {
          body: { ...scope, method, ...(selectedIds.length ? { ids: selectedIds } : {}) },
        }),
      ),
    onSuccess: (task, method) => setClusterTask({ id: task.task_id, method }),
    onError: notifyError,
  });
  const exportUrl = `/api/v1/planner/keywords/export/?${new URLSearchParams(Object.entries(filters).map(([k, v]) => [k, String(v)]))}`;

  return (
    <Stack gap="sm">
      <Group gap="xs" wrap="wrap" align="flex-end">
        <TextInput
          label="Search"
          placeholder="trail shoes"
          value={search}
          onChange={(e) => {
            setSearch(e.currentTarget.value);
            setPage(1);
          }}
          w={200}
        />
        <Select
          label="Status"
          placeholder="Any"
          clearable
          data={['new', 'mapped', 'archived']}
          value={status}
          onChange={(v) => {
            setStatus(v);
            setPage(1);
          }}
          w={130}
        />
        <Select
          label="Intent"
          placeholder="Any"
          clearable
          data={['informational', 'commercial', 'transactional', 'navigational']}
          value={intent}
          onChange={(v) => {
            setIntent(v);
            setPage(1);
          }}
          w={160}
        />
        <NumberInput
          label="Volume at least"
          min={0}
          value={minVolume}
          onChange={(v) => {
            setMinVolume(v);
            setPage(1);
          }}
          w={140}
        />
        <Group gap="xs" ml="auto">
          {canWrite && (
            <Button variant="light" onClick={importModal.open}>
              Import CSV
            </Button>
          )}
          <Button variant="default" component="a" href={exportUrl} download>
            Export CSV
          </Button>
        </Group>
      </Group>

      {canWrite && (
        <Paper withBorder p="xs">
          <Group gap="xs" wrap="wrap">
            <Text size="sm" fw={500}>
              {selectedIds.length > 0 ? `${selectedIds.length} selected:` : 'Cluster all new keywords:'}
            </Text>
            <Button
              size="xs"
              onClick={() => cluster.mutate('lexical')}
              loading={cluster.isPending && cluster.variables === 'lexical'}
            >
              Cluster (lexical, free)
            </Button>
            <Button
              size="xs"
              variant="light"
              onClick={() => cluster.mutate('ai')}
              loading={cluster.isPending && cluster.variables === 'ai'}
            >
              Cluster with AI
            </Button>
            {selectedIds.length > 0 && (
              <>
                <Button size="xs" variant="default" onClick={() => bulkStatus.mutate('archived')}>
                  Archive
                </Button>
                <Button size="xs" variant="default" onClick={() => bulkStatus.mutate('new')}>
                  Restore to new
                </Button>
                <ConfirmButton label={`Delete ${selectedIds.length}`} onConfirm={() => bulkDelete.mutate()} />
              </>
            )}
          </Group>
        </Paper>
      )}
      {clusterTask && (
        <TaskProgress
          key={clusterTask.id}
          taskId={clusterTask.id}
          label={`Clustering (${clusterTask.method})`}
          invalidate={[['keywords'], ['clusters']]}
          onFinished={(task) => task.status === 'succeeded' && notifyDone('Clustering finished: see Clusters.')}
        />
      )}

      <QueryState query={keywords}>
        {keywords.data?.count === 0 && !debouncedSearch && !status && !intent && minVolume === '' ? (
          <EmptyState
            title="No keywords in this sector yet"
            action={canWrite ? <Button onClick={importModal.open}>Import a CSV</Button> : undefined}
          >
            Import a CSV exported from your keyword tool (a "keyword" column, optionally volume, difficulty, cpc and intent), then
            cluster them.
          </EmptyState>
        ) : (
          <Table.ScrollContainer minWidth={760}>
            <Table striped highlightOnHover aria-label="Keywords" data-testid="keywords-table">
              <Table.Thead>
                {table.getHeaderGroups().map((group) => (
                  <Table.Tr key={group.id}>
                    {group.headers.map((header) => {
                      if (header.column.id === 'select')
                        return (
                          <Table.Th key={header.id} w={40}>
                            <Checkbox
                              aria-label="Select every keyword on this page"
                              checked={table.getIsAllPageRowsSelected()}
                              indeterminate={table.getIsSomePageRowsSelected()}
                              onChange={table.getToggleAllPageRowsSelectedHandler()}
                            />
                          </Table.Th>
                        );
                      const sortable = SORTABLE.has(header.column.id);
                      const sorted = header.column.getIsSorted();
                      const label = String(header.column.columnDef.header);
                      return (
                        <Table.Th
                          key={header.id}
                          aria-sort={sorted ? (sorted === 'desc' ? 'descending' : 'ascending') : undefined}
                        >
                          {sortable ? (
                            <UnstyledButton
                              onClick={header.column.getToggleSortingHandler()}
                              fw={700}
                              fz="sm"
                              aria-label={`Order by ${label}`}
                            >
                              {label} {sorted === 'asc' ? '▲' : sorted === 'desc' ? '▼' : ''}
                            </UnstyledButton>
                          ) : (
                            label
                          )}
                        </Table.Th>
                      );
                    })}
                  </Table.Tr>
                ))}
              </Table.Thead>
              <Table.Tbody>
                {table.getRowModel().rows.length === 0 && (
                  <Table.Tr>
                    <Table.Td colSpan={columns.length}>
                      <Text c="dimmed" size="sm">
                        No keyword matches these filters; clear them to see every keyword.
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                )}
                {table.getRowModel().rows.map((row) => {
                  const k = row.original;
                  return (
                    <Table.Tr key={row.id}>
                      <Table.Td>
                        <Checkbox
                          aria-label={`Select ${k.keyword}`}
                          checked={row.getIsSelected()}
                          onChange={row.getToggleSelectedHandler()}
                        />
                      </Table.Td>
                      <Table.Td>{k.keyword}</Table.Td>
                      <Table.Td>{k.volume ?? '—'}</Table.Td>
                      <Table.Td>{k.difficulty ?? '—'}</Table.Td>
                      <Table.Td>{k.cpc ?? '—'}</Table.Td>
                      <Table.Td>{k.intent ?? '—'}</Table.Td>
                      <Table.Td>
                        <Badge color={STATUS_COLORS[k.status]} variant="light">
                          {k.status}
                        </Badge>
                      </Table.Td>
                      <Table.Td>
                        {k.cluster_id ? (
                          <Anchor component={Link} to={`/clusters?open=${k.cluster_id}`}>
                            #{k.cluster_id}
                          </Anchor>
                        ) : (
                          '—'
                        )}
                      </Table.Td>
                      <Table.Td>{new Date(k.created_at).toLocaleDateString()}</Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        <Group justify="space-between">
          <Pager page={page} count={keywords.data?.count ?? 0} pageSize={pageSize} onChange={setPage} />
          <Select
            aria-label="Rows per page"
            size="xs"
            w={110}
            data={['20', '50', '100', '200']}
            value={String(pageSize)}
            onChange={(v) => {
              setPageSize(Number(v ?? 50));
              setPage(1);
            }}
            allowDeselect={false}
          />
        </Group>
      </QueryState>

      <Modal opened={importOpen} onClose={importModal.close} title="Import keywords from a CSV" size="lg">
        <ImportForm scope={scope} onImported={() => refresh()} />
      </Modal>
    </Stack>
  );
}

function ImportForm({ scope, onImported }: { scope: { site_id: number; sector_id: number }; onImported: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const upload = useMutation({
    mutationFn: async (): Promise<ImportResult> => {
      if (!file) throw new Error('Choose a file first.');
      const form = new FormData();
      form.append('site_id', String(scope.site_id));
      form.append('sector_id', String(scope.sector_id));
      form.append('file', file);
      const response = await fetch('/api/v1/planner/keywords/import/', {
        method: 'POST',
        body: form,
        credentials: 'same-origin',
      });
      if (!response.ok) throw await toApiError(response);
      return ((await response.json()) as { data: ImportResult }).data;
    },
    onSuccess: onImported,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    upload.mutate();
  };
  const result = upload.data;
  return (
    <form onSubmit={submit}>
      <Stack>
        <Text size="sm" c="dimmed">
          Comma, tab or semicolon separated, UTF-8 or UTF-16; a header row naming at least a keyword column (Keyword Planner
          exports work as they are). Bad rows are reported and skipped.
        </Text>
        <FileInput
          label="CSV file"
          accept=".csv,.tsv,.txt,text/csv"
          value={file}
          onChange={setFile}
          required
          error={fieldError(upload.error, 'file')}
          clearable
        />
        <ErrorAlert error={upload.error} shownFields={['file']} />
        <Button type="submit" loading={upload.isPending} disabled={!file}>
          Import
        </Button>
        {result && (
          <Paper withBorder p="sm" data-testid="import-result">
            <Text size="sm" fw={500}>
              {result.created} created, {result.skipped_duplicates} duplicates skipped, {result.errors.length} rows with errors.
            </Text>
            {result.errors.length > 0 && (
              <Table mt="xs" aria-label="Rows with errors" data-testid="import-errors">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Row</Table.Th>
                    <Table.Th>Column</Table.Th>
                    <Table.Th>Problem</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {result.errors.slice(0, 200).map((error) => (
                    <Table.Tr key={`${error.row}-${error.column}`}>
                      <Table.Td>{error.row}</Table.Td>
                      <Table.Td>{error.column}</Table.Td>
                      <Table.Td>{error.message}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </Paper>
        )}
      </Stack>
    </form>
  );
}
