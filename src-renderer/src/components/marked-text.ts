// Text with the filter's words marked where they match: why a row is in the list, at a glance.
// The children to put in an element, called by the cells that show text (a screenful of rows shows
// three each, and every keystroke draws them all again: a component each would be an instance each).
import { h, type VNodeArrayChildren } from 'vue';
import { markMatches } from '../filter';
import { useUiStore } from '../stores/ui';

/** The text as an element's children: itself, or its pieces with the matches in `<mark>`. */
export function markedText(text: string): string | VNodeArrayChildren {
  const pieces = markMatches(text, useUiStore().marks);
  if (pieces.length === 1 && !pieces[0].marked) return text;
  return pieces.map((piece): VNodeArrayChildren[number] =>
    piece.marked ? h('mark', { 'data-testid': 'match' }, piece.text) : piece.text,
  );
}
