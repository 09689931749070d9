/**
 * The console's sections, in the order the work goes (plan → write → review → pay). A module landing later
 * adds one line here and one route in App.tsx.
 */
export interface NavItem {
  path: string;
  label: string;
  group: 'Plan' | 'Write' | 'Publish' | 'Account';
}

export const NAV: NavItem[] = [
  { path: '/sites', label: 'Sites & sectors', group: 'Plan' },
  { path: '/keywords', label: 'Keywords', group: 'Plan' },
  { path: '/clusters', label: 'Clusters', group: 'Plan' },
  { path: '/ideas', label: 'Ideas', group: 'Plan' },
  { path: '/tasks', label: 'Writer tasks', group: 'Write' },
  { path: '/content', label: 'Content', group: 'Write' },
  { path: '/review', label: 'Review queue', group: 'Write' },
  { path: '/images', label: 'Images', group: 'Write' },
  { path: '/publishing', label: 'Publishing', group: 'Publish' },
  { path: '/integrations', label: 'WordPress', group: 'Publish' },
  { path: '/deployments', label: 'Deployments', group: 'Publish' },
  { path: '/automation', label: 'Automation', group: 'Publish' },
  { path: '/credits', label: 'Credits', group: 'Account' },
  { path: '/team', label: 'Team', group: 'Account' },
  { path: '/api-keys', label: 'API keys', group: 'Account' },
  { path: '/ai', label: 'AI settings & prompts', group: 'Account' },
  { path: '/events', label: 'Events', group: 'Account' },
];
