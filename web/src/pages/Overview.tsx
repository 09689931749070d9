import { Button, Card, Group, List, SimpleGrid, Text, ThemeIcon, Title } from '@mantine/core';
import { Link } from 'react-router';
import { useBalance } from '../components/Shell';
import { useWorkspace } from '../session';
import { PageHeader } from './common';

/** Where a new user starts: the steps from a site to an approved article, each a link to its screen. */
export function OverviewPage() {
  const { me, sites, sector } = useWorkspace();
  const balance = useBalance();
  const steps = [
    { done: sites.length > 0, title: 'Create a site', text: 'The website your articles are for.', to: '/sites' },
    { done: sector !== null, title: 'Add a sector', text: 'A topic area of the site, e.g. "trail running".', to: '/sites' },
    { done: false, title: 'Import keywords', text: 'A CSV from your keyword tool.', to: '/keywords' },
    {
      done: false,
      title: 'Cluster them',
      text: 'Group keywords one article can answer (lexical clustering is free).',
      to: '/keywords',
    },
    { done: false, title: 'Generate ideas', text: 'Article ideas for the clusters you pick.', to: '/clusters' },
    { done: false, title: 'Write articles', text: 'Queue ideas to the writer and generate.', to: '/ideas' },
    { done: false, title: 'Review', text: 'Submit drafts and approve them.', to: '/review' },
  ];
  return (
    <>
      <PageHeader
        title={`Welcome${me.user?.first_name ? `, ${me.user.first_name}` : ''}`}
        description={`${me.account?.name} · ${balance.data?.balance ?? '…'} credits`}
      />
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
        {steps.map((step, index) => (
          <Card key={step.title} withBorder>
            <Group wrap="nowrap" align="flex-start">
              <ThemeIcon radius="xl" color={step.done ? 'green' : 'blue'} variant={step.done ? 'filled' : 'light'}>
                {step.done ? '✓' : index + 1}
              </ThemeIcon>
              <div>
                <Title order={2} size="h5">
                  {step.title}
                </Title>
                <Text size="sm" c="dimmed">
                  {step.text}
                </Text>
                <Button component={Link} to={step.to} size="compact-sm" variant="subtle" mt={4} px={0}>
                  Go
                </Button>
              </div>
            </Group>
          </Card>
        ))}
      </SimpleGrid>
      <List size="sm" mt="lg" c="dimmed">
        <List.Item>Everything here uses the public API: the same calls are in the API docs at /api/docs.</List.Item>
      </List>
    </>
  );
}
