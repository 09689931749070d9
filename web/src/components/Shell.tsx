import { AppShell, Badge, Box, Burger, Button, Group, NavLink, ScrollArea, Select, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { type ReactNode, useEffect, useRef } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { api, data } from '../api/client';
import { NAV } from '../nav';
import { useWorkspace } from '../session';
import { notifyError } from './feedback';

export const useBalance = () =>
  useQuery({ queryKey: ['credits', 'balance'], queryFn: () => data(api.GET('/api/v1/billing/credits/balance')) });

/** The frame: account, site and sector in the header (every list below follows them), the sections at the side. */
export function Shell({ children }: { children: ReactNode }) {
  const [opened, { toggle, close }] = useDisclosure();
  const workspace = useWorkspace();
  const { sites, site, sector, sectors } = workspace;
  const location = useLocation();
  const balance = useBalance();
  // A new screen takes the focus, so keyboard and screen-reader users start at its content, not the menu's end.
  const main = useRef<HTMLElement>(null);
  const firstScreen = useRef(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on each change of screen
  useEffect(() => {
    if (firstScreen.current) {
      firstScreen.current = false;
      return;
    }
    main.current?.focus();
  }, [location.pathname]);
  const groups = [...new Set(NAV.map((item) => item.group))];
  const siteSectors = sectors.filter((s) => s.site_id === site?.id);
  return (
    <AppShell
      header={{ height: { base: 104, sm: 60 } }}
      navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <a className="skip-link" href="#main">
        Skip to the content
      </a>
      <AppShell.Header px="md">
        <Group h={{ base: 52, sm: 60 }} justify="space-between" wrap="nowrap">
          <Group gap="xs" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Open the menu" />
            <Title order={2} size="h4">
              <Link to="/" style={{ color: 'inherit', textDecoration: 'none' }}>
                ContentFlow
              </Link>
            </Title>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <Box visibleFrom="xs">
              <Badge
                variant="light"
                size="lg"
                component={Link}
                to="/credits"
                style={{ cursor: 'pointer' }}
                data-testid="credits-badge"
              >
                {balance.data ? `${balance.data.balance} credits` : 'credits'}
              </Badge>
            </Box>
            <Group gap="xs" visibleFrom="sm" wrap="nowrap">
              <AccountPicker />
            </Group>
            <Button size="xs" variant="default" onClick={() => workspace.signOut().catch(notifyError)} style={{ flexShrink: 0 }}>
              Sign out
            </Button>
          </Group>
        </Group>
        <Group gap="xs" pb={6} hiddenFrom="sm" wrap="nowrap">
          <SitePickers />
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Sections">
        <Group hiddenFrom="sm" mb="xs">
          <AccountPicker />
        </Group>
        <Group gap="xs" mb="sm" visibleFrom="sm" style={{ flexDirection: 'column', alignItems: 'stretch' }}>
          <SitePickers />
        </Group>
        <ScrollArea>
          {groups.map((group) => (
            <div key={group}>
              <Text size="xs" fw={700} c="dimmed" tt="uppercase" mt="sm" mb={4} px="xs">
                {group}
              </Text>
              {NAV.filter((item) => item.group === group).map((item) => (
                <NavLink
                  key={item.path}
                  component={Link}
                  to={item.path}
                  label={item.label}
                  active={location.pathname === item.path || location.pathname.startsWith(`${item.path}/`)}
                  onClick={close}
                />
              ))}
            </div>
          ))}
        </ScrollArea>
        {sites.length > 0 && siteSectors.length === 0 && (
          <Text size="xs" c="orange" p="xs">
            {site?.name} has no sector yet: add one under Sites & sectors.
          </Text>
        )}
        {sector === null && sites.length === 0 && (
          <Text size="xs" c="orange" p="xs">
            Start by creating a site under Sites & sectors.
          </Text>
        )}
      </AppShell.Navbar>
      <AppShell.Main id="main" ref={main} tabIndex={-1}>
        {children}
      </AppShell.Main>
    </AppShell>
  );
}

/** The account this tab acts for: a switch when the user belongs to several, else its name and the role. */
function AccountPicker() {
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const { me } = workspace;
  if (me.accounts.length < 2)
    return (
      <Text size="sm" title={`Your role: ${me.role}`}>
        {me.account?.name} · {me.role}
      </Text>
    );
  return (
    <Select
      aria-label="Account"
      size="xs"
      w={180}
      value={String(me.account?.id)}
      data={me.accounts.map((a) => ({ value: String(a.id), label: `${a.name} (${a.role})` }))}
      onChange={(value) => value && workspace.switchAccount(Number(value)).then(() => navigate('/'), notifyError)}
      allowDeselect={false}
    />
  );
}

function SitePickers() {
  const { sites, site, sector, sectors, selectSite, selectSector } = useWorkspace();
  const siteSectors = sectors.filter((s) => s.site_id === site?.id);
  return (
    <>
      <Select
        aria-label="Site"
        size="xs"
        placeholder="No site yet"
        data={sites.map((s) => ({ value: String(s.id), label: s.name }))}
        value={site ? String(site.id) : null}
        onChange={(value) => selectSite(value ? Number(value) : null)}
        allowDeselect={false}
        disabled={sites.length === 0}
        style={{ flex: 1 }}
      />
      <Select
        aria-label="Sector"
        size="xs"
        placeholder="No sector yet"
        data={siteSectors.map((s) => ({ value: String(s.id), label: s.name }))}
        value={sector ? String(sector.id) : null}
        onChange={(value) => selectSector(value ? Number(value) : null)}
        allowDeselect={false}
        disabled={siteSectors.length === 0}
        style={{ flex: 1 }}
      />
    </>
  );
}
