import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { ApiError, api, data } from './api/client';

export type Me = Awaited<ReturnType<typeof fetchMe>>;
export type Site = Awaited<ReturnType<typeof fetchSites>>[number];
export type Sector = Awaited<ReturnType<typeof fetchSectors>>[number];

/**
 * Whether this browser signed in: without it, the first screen is the sign-in form at once, rather than a
 * request for /auth/me that can only answer 401 (an error in the browser's console on every first visit).
 */
const SIGNED_IN_KEY = 'contentflow.signed-in';
export const markSignedIn = (on: boolean) =>
  on ? localStorage.setItem(SIGNED_IN_KEY, '1') : localStorage.removeItem(SIGNED_IN_KEY);

async function fetchMe() {
  if (localStorage.getItem(SIGNED_IN_KEY) !== '1') throw new ApiError(401, 'not_authenticated', 'Sign in to continue.');
  try {
    return await data(api.GET('/api/v1/auth/me'));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) markSignedIn(false);
    throw error;
  }
}
const fetchSites = async () => (await data(api.GET('/api/v1/auth/sites', { params: { query: { page_size: 200 } } }))).results;
const fetchSectors = async () => (await data(api.GET('/api/v1/auth/sectors', { params: { query: { page_size: 200 } } }))).results;

/** Refresh tokens stay in this tab only: switching account rotates one (the cookie session follows). */
const REFRESH_KEY = 'contentflow.refresh';
export const rememberRefresh = (token: string) => {
  sessionStorage.setItem(REFRESH_KEY, token);
  markSignedIn(true);
};
const forgetRefresh = () => sessionStorage.removeItem(REFRESH_KEY);

export function useMe() {
  return useQuery({
    queryKey: ['me'],
    queryFn: fetchMe,
    retry: (count, error) => !(error instanceof ApiError && error.status === 401) && count < 2,
  });
}

interface Workspace {
  me: Me;
  sites: Site[];
  sectors: Sector[];
  site: Site | null;
  sector: Sector | null;
  selectSite(id: number | null): void;
  selectSector(id: number | null): void;
  /** Writes are refused for viewers: buttons say so instead of failing. */
  canWrite: boolean;
  canAdmin: boolean;
  switchAccount(accountId: number): Promise<void>;
  signOut(): Promise<void>;
}

const WorkspaceContext = createContext<Workspace | null>(null);

export function useWorkspace(): Workspace {
  const workspace = useContext(WorkspaceContext);
  if (!workspace) throw new Error('useWorkspace outside WorkspaceProvider');
  return workspace;
}

const stored = (key: string) => {
  const value = Number(localStorage.getItem(key));
  return Number.isInteger(value) && value > 0 ? value : null;
};

export function WorkspaceProvider({ me, children }: { me: Me; children: ReactNode }) {
  const queryClient = useQueryClient();
  const accountId = me.account?.id ?? 0;
  const sites = useQuery({ queryKey: ['sites', accountId], queryFn: fetchSites, enabled: accountId > 0 });
  const sectors = useQuery({ queryKey: ['sectors', accountId], queryFn: fetchSectors, enabled: accountId > 0 });
  const siteKey = `contentflow.site.${accountId}`;
  const sectorKey = `contentflow.sector.${accountId}`;
  const [siteId, setSiteId] = useState<number | null>(() => stored(siteKey));
  const [sectorId, setSectorId] = useState<number | null>(() => stored(sectorKey));

  const siteList = sites.data ?? [];
  const site = siteList.find((s) => s.id === siteId) ?? siteList[0] ?? null;
  const sectorList = sectors.data ?? [];
  const siteSectors = sectorList.filter((s) => s.site_id === site?.id);
  const sector = siteSectors.find((s) => s.id === sectorId) ?? siteSectors[0] ?? null;

  useEffect(() => {
    if (site) localStorage.setItem(siteKey, String(site.id));
    if (sector) localStorage.setItem(sectorKey, String(sector.id));
  }, [site, sector, siteKey, sectorKey]);

  const switchAccount = useCallback(
    async (id: number) => {
      const refresh = sessionStorage.getItem(REFRESH_KEY);
      if (!refresh)
        throw new ApiError(401, 'not_authenticated', 'Sign in again to switch accounts (this tab has no session to switch).');
      const tokens = await data(api.POST('/api/v1/auth/refresh', { body: { refresh, account_id: id } }));
      rememberRefresh(tokens.refresh);
      await queryClient.resetQueries();
    },
    [queryClient],
  );
  const signOut = useCallback(async () => {
    await data(api.POST('/api/v1/auth/logout', { body: {} }));
    forgetRefresh();
    markSignedIn(false);
    // Everything but who-am-I is dropped without asking again (the session is gone: each would be a 401);
    // resetting who-am-I then draws the sign-in form.
    await queryClient.cancelQueries();
    queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== 'me' });
    await queryClient.resetQueries({ queryKey: ['me'] });
  }, [queryClient]);

  const value = useMemo<Workspace>(
    () => ({
      me,
      sites: siteList,
      sectors: sectorList,
      site,
      sector,
      selectSite: (id) => {
        setSiteId(id);
        setSectorId(null);
      },
      selectSector: setSectorId,
      canWrite: me.role !== 'viewer',
      canAdmin: me.role === 'owner' || me.role === 'admin',
      switchAccount,
      signOut,
    }),
    [me, siteList, sectorList, site, sector, switchAccount, signOut],
  );
  return <WorkspaceContext.Provider value={value}>{children}</WorkspaceContext.Provider>;
}
