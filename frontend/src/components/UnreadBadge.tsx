import { badgeNumber, countsLabel, type Counts } from '../chat/unread';

/**
 * What is unread somewhere, named for screen readers ("3 unread, 1 mention"): a red pill with
 * the mentions, and the unread count as a quieter pill (`count`, in lists) or a dot (`dot`, the
 * rail). Nothing when all is read.
 */
export function UnreadBadge({
  counts,
  variant = 'count',
  describes,
}: {
  counts: Counts;
  variant?: 'count' | 'dot';
  /**
   * The id to give the words when the badge describes an element named otherwise (a rail icon's
   * `aria-describedby`): then the pills are only drawn and the words are hidden text.
   */
  describes?: string;
}) {
  if (counts.unread <= 0 && counts.mentions <= 0) return null;
  const label = countsLabel(counts);
  const named = describes === undefined ? { role: 'img', 'aria-label': label } : { 'aria-hidden': true };
  return (
    <span className={`unread-badges unread-badges-${variant}`} {...named}>
      {describes !== undefined && (
        <span id={describes} className="visually-hidden">
          {label}
        </span>
      )}
      {counts.unread > 0 &&
        (variant === 'dot' ? (
          <span className="unread-dot" />
        ) : (
          <span className="badge badge-unread">{badgeNumber(counts.unread)}</span>
        ))}
      {counts.mentions > 0 && <span className="badge badge-mention">{badgeNumber(counts.mentions)}</span>}
    </span>
  );
}
