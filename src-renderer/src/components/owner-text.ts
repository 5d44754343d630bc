// A socket's owner as a developer knows it: the short command ("node server.js"), its pid, and
// where it runs (its container, or its project folder "~/code/shop-api"); the whole command line
// on hover. A gone owner reads "(was 4711)"; one not looked up yet (the first table, sent before
// its owners) "resolving…".
// `ownerText` draws it; Connections calls it in each row (no component instance a row),
// OwnerText is it as a component, for Listeners, the feed and a port's fan-out. Its styles are in styles.css (.owner-text).
import { h, type FunctionalComponent, type VNode } from 'vue';
import type { ProcessInfo } from '../../../src-main/shared/contract';
import { ownerPlace, shortCommand } from '../../../src-main/track/owner-names';
import { markedText } from './marked-text';

export interface OwnerProps {
  pid: number | null;
  /** The name the socket carries (when the process's details are not in the table). */
  name: string | null;
  lastPid?: number | null;
  process?: ProcessInfo;
  /** Owners are still being looked up: no owner yet is not "no owner". */
  resolving?: boolean;
}

/** An owner's elements (see OwnerProps). */
export function ownerText(props: OwnerProps): VNode {
  const resolving = !props.process && !props.name && props.lastPid == null && props.resolving && props.pid === null;
  const label = props.process
    ? shortCommand(props.process)
    : (props.name ?? (props.lastPid != null ? `(was ${props.lastPid})` : resolving ? 'resolving…' : '—'));
  const where = props.process ? ownerPlace(props.process) : null;
  /** All of it, on hover: the command line, the pid, where it runs. */
  const whole = [
    props.process?.command || label,
    props.pid === null ? '' : `(pid ${props.pid})`,
    where ? `in ${where}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return h('span', { class: 'owner-text', title: whole }, [
    h('span', { class: resolving ? 'name muted' : 'name', 'data-testid': 'owner-name' }, markedText(label)),
    props.pid !== null ? h('span', { class: 'muted mono pid' }, String(props.pid)) : null,
    where ? h('span', { class: 'muted where', 'data-testid': 'owner-where' }, where) : null,
  ]);
}

const OwnerText: FunctionalComponent<OwnerProps> = (props) => ownerText(props);
OwnerText.props = {
  pid: { type: Number, default: null },
  name: { type: String, default: null },
  lastPid: { type: Number, default: null },
  process: { type: Object, default: undefined },
  resolving: { type: Boolean, default: false },
};
export default OwnerText;
