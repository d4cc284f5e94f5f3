// A person's (or a group's) initials on a colour of their own: Hearth has no profile pictures.

/** A hue per id, spread around the wheel; lightness chosen so white initials stay readable. */
export function avatarColor(id: number): string {
  const hue = Math.abs(Math.trunc(id) * 137) % 360;
  return `hsl(${hue} 45% 32%)`;
}

export function initials(name: string): string {
  const words = name.trim().split(/[\s_.-]+/).filter(Boolean);
  if (words.length >= 2) return `${[...words[0] ?? ''][0] ?? ''}${[...words[1] ?? ''][0] ?? ''}`.toUpperCase();
  return ([...name.trim()][0] ?? '?').toUpperCase();
}

export function Avatar({ id, name, size = 40, group = false }: { id: number; name: string; size?: number; group?: boolean }) {
  return (
    <span
      className={`avatar${group ? ' group' : ''}`}
      aria-hidden="true"
      style={{ width: size, height: size, fontSize: Math.round(size * 0.4), background: avatarColor(id) }}
    >
      {group ? initials(name) : ([...name.trim()][0] ?? '?').toUpperCase()}
    </span>
  );
}
