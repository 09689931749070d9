import { Checkbox } from '@mantine/core';
import { useState } from 'react';

/** Checked rows of a list page, by id; kept while the page's rows stay the same. */
export function useSelection() {
  const [selected, setSelected] = useState<Set<number>>(new Set());
  return {
    ids: [...selected],
    has: (id: number) => selected.has(id),
    toggle: (id: number) =>
      setSelected((current) => {
        const next = new Set(current);
        if (next.has(id)) next.delete(id);
        else next.add(id);
        return next;
      }),
    setAll: (ids: number[], on: boolean) => setSelected(new Set(on ? ids : [])),
    clear: () => setSelected(new Set()),
  };
}

export type Selection = ReturnType<typeof useSelection>;

export function SelectAll({ selection, ids, label }: { selection: Selection; ids: number[]; label: string }) {
  const all = ids.length > 0 && ids.every((id) => selection.has(id));
  const some = ids.some((id) => selection.has(id));
  return <Checkbox aria-label={label} checked={all} indeterminate={some && !all} onChange={() => selection.setAll(ids, !all)} />;
}

export function SelectOne({ selection, id, label }: { selection: Selection; id: number; label: string }) {
  return <Checkbox aria-label={label} checked={selection.has(id)} onChange={() => selection.toggle(id)} />;
}
