import { lazy, Suspense, useEffect } from 'react';
import { Route, Routes } from 'react-router';
import { ApiError } from './api/client';
import { ErrorAlert, Loading } from './components/feedback';
import { Shell } from './components/Shell';
import { SignInPage } from './pages/SignIn';
import { useMe, WorkspaceProvider } from './session';

// Each screen is its own chunk: the sign-in screen does not wait for the charts, and once signed in the rest
// are fetched while the browser is idle, so opening any screen later needs only its data.
const screens = {
  Automation: () => import('./pages/Automation'),
  Deployments: () => import('./pages/Deployments'),
  Integrations: () => import('./pages/Integrations'),
  Publishing: () => import('./pages/Publishing'),
  AiSettings: () => import('./pages/AiSettings'),
  ApiKeys: () => import('./pages/ApiKeys'),
  Clusters: () => import('./pages/Clusters'),
  ContentDetail: () => import('./pages/ContentDetail'),
  ContentList: () => import('./pages/ContentList'),
  Credits: () => import('./pages/Credits'),
  Events: () => import('./pages/Events'),
  Ideas: () => import('./pages/Ideas'),
  Images: () => import('./pages/Images'),
  Keywords: () => import('./pages/Keywords'),
  NotFound: () => import('./pages/NotFound'),
  Overview: () => import('./pages/Overview'),
  Review: () => import('./pages/Review'),
  Sites: () => import('./pages/Sites'),
  Tasks: () => import('./pages/Tasks'),
  Team: () => import('./pages/Team'),
};
const PublishingPage = lazy(() => screens.Publishing().then((m) => ({ default: m.PublishingPage })));
const IntegrationsPage = lazy(() => screens.Integrations().then((m) => ({ default: m.IntegrationsPage })));
const DeploymentsPage = lazy(() => screens.Deployments().then((m) => ({ default: m.DeploymentsPage })));
const AutomationPage = lazy(() => screens.Automation().then((m) => ({ default: m.AutomationPage })));
const AiSettingsPage = lazy(() => screens.AiSettings().then((m) => ({ default: m.AiSettingsPage })));
const ApiKeysPage = lazy(() => screens.ApiKeys().then((m) => ({ default: m.ApiKeysPage })));
const ClustersPage = lazy(() => screens.Clusters().then((m) => ({ default: m.ClustersPage })));
const ContentDetailPage = lazy(() => screens.ContentDetail().then((m) => ({ default: m.ContentDetailPage })));
const ContentListPage = lazy(() => screens.ContentList().then((m) => ({ default: m.ContentListPage })));
const CreditsPage = lazy(() => screens.Credits().then((m) => ({ default: m.CreditsPage })));
const EventsPage = lazy(() => screens.Events().then((m) => ({ default: m.EventsPage })));
const IdeasPage = lazy(() => screens.Ideas().then((m) => ({ default: m.IdeasPage })));
const ImagesPage = lazy(() => screens.Images().then((m) => ({ default: m.ImagesPage })));
const KeywordsPage = lazy(() => screens.Keywords().then((m) => ({ default: m.KeywordsPage })));
const NotFoundPage = lazy(() => screens.NotFound().then((m) => ({ default: m.NotFoundPage })));
const OverviewPage = lazy(() => screens.Overview().then((m) => ({ default: m.OverviewPage })));
const ReviewPage = lazy(() => screens.Review().then((m) => ({ default: m.ReviewPage })));
const SitesPage = lazy(() => screens.Sites().then((m) => ({ default: m.SitesPage })));
const TasksPage = lazy(() => screens.Tasks().then((m) => ({ default: m.TasksPage })));
const TeamPage = lazy(() => screens.Team().then((m) => ({ default: m.TeamPage })));

export function App() {
  const me = useMe();
  const signedIn = Boolean(me.data?.account);
  useEffect(() => {
    if (!signedIn) return;
    const timer = setTimeout(() => {
      for (const load of Object.values(screens)) void load();
    }, 300);
    return () => clearTimeout(timer);
  }, [signedIn]);
  if (me.isPending) return <Loading label="Checking your session" />;
  if (me.error instanceof ApiError && me.error.status === 401) return <SignInPage />;
  if (me.error) return <ErrorAlert error={me.error} title="The API did not answer" />;
  if (!me.data.account)
    return <SignInPage notice="This user belongs to no account: sign in with a member of one, or register a new account." />;
  return (
    <WorkspaceProvider me={me.data}>
      <Shell>
        <Suspense fallback={<Loading />}>
          <Routes>
            <Route path="/" element={<OverviewPage />} />
            <Route path="/sites" element={<SitesPage />} />
            <Route path="/keywords" element={<KeywordsPage />} />
            <Route path="/clusters" element={<ClustersPage />} />
            <Route path="/ideas" element={<IdeasPage />} />
            <Route path="/tasks" element={<TasksPage />} />
            <Route path="/content" element={<ContentListPage />} />
            <Route path="/content/:id" element={<ContentDetailPage />} />
            <Route path="/review" element={<ReviewPage />} />
            <Route path="/images" element={<ImagesPage />} />
            <Route path="/publishing" element={<PublishingPage />} />
            <Route path="/integrations" element={<IntegrationsPage />} />
            <Route path="/deployments" element={<DeploymentsPage />} />
            <Route path="/automation" element={<AutomationPage />} />
            <Route path="/credits" element={<CreditsPage />} />
            <Route path="/team" element={<TeamPage />} />
            <Route path="/api-keys" element={<ApiKeysPage />} />
            <Route path="/ai" element={<AiSettingsPage />} />
            <Route path="/events" element={<EventsPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </Suspense>
      </Shell>
    </WorkspaceProvider>
  );
}
