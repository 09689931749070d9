import { Button } from '@mantine/core';
import { Link } from 'react-router';
import { EmptyState } from '../components/feedback';

export function NotFoundPage() {
  return (
    <EmptyState
      title="No such page"
      action={
        <Button component={Link} to="/">
          Back to the overview
        </Button>
      }
    >
      This address is not a screen of the console.
    </EmptyState>
  );
}
