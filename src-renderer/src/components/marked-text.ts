// Text with the filter's words marked where they match: why a row is in the list, at a glance.
// A functional component (no instance of its own): a screenful of rows shows three each, and every
// keystroke renders them all again.
import { h, type FunctionalComponent, type VNodeArrayChildren } from 'vue';
import { markMatches } from '../filter';
import { useUiStore } from '../stores/ui';

const MarkedText: FunctionalComponent<{ text: string }> = (props) => {
  const pieces = markMatches(props.text, useUiStore().marks);
  if (pieces.length === 1 && !pieces[0].marked) return props.text;
  return pieces.map((piece): VNodeArrayChildren[number] =>
    piece.marked ? h('mark', { 'data-testid': 'match' }, piece.text) : piece.text,
  );
};
MarkedText.props = { text: { type: String, required: true } };
export default MarkedText;
