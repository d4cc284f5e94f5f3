import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { Composer } from './Composer';

describe('Composer', () => {
  it('sends on Enter, inserts a newline on Shift+Enter, and signals typing', async () => {
    const onSend = vi.fn(() => true);
    const onTyping = vi.fn();
    render(<Composer channelName="general" onSend={onSend} onTyping={onTyping} />);
    const box = screen.getByRole('textbox', { name: 'Message' });
    const user = userEvent.setup();

    await user.type(box, 'line one{Shift>}{Enter}{/Shift}line two');
    expect(box).toHaveValue('line one\nline two');
    expect(onSend).not.toHaveBeenCalled();
    expect(onTyping).toHaveBeenCalled();

    await user.keyboard('{Enter}');
    expect(onSend).toHaveBeenCalledWith('line one\nline two');
    expect(box).toHaveValue('');
  });

  it('keeps the text when it was not accepted, and has a Send button', async () => {
    const onSend = vi.fn(() => false);
    render(<Composer channelName="general" onSend={onSend} onTyping={() => undefined} />);
    const user = userEvent.setup();
    await user.type(screen.getByRole('textbox', { name: 'Message' }), 'hello');
    await user.click(screen.getByRole('button', { name: 'Send' }));
    expect(onSend).toHaveBeenCalledWith('hello');
    expect(screen.getByRole('textbox', { name: 'Message' })).toHaveValue('hello');
  });
});

const people = [
  { id: 2, username: 'bob' },
  { id: 3, username: 'bella' },
  { id: 4, username: 'carol' },
];

function setup(withPeople = true) {
  const onSend = vi.fn(() => true);
  render(<Composer channelName="general" onSend={onSend} onTyping={() => undefined} people={withPeople ? people : undefined} />);
  return { onSend, box: screen.getByRole('textbox', { name: 'Message' }), user: userEvent.setup() };
}

describe('@ completion in the composer', () => {
  it('lists the people matching what follows @, and Enter picks the highlighted one as a token', async () => {
    const { onSend, box, user } = setup();
    await user.type(box, 'hi @b');
    const list = screen.getByRole('listbox', { name: 'People to mention' });
    const options = within(list).getAllByRole('option');
    expect(options).toHaveLength(2);
    expect(options[0]).toHaveAccessibleName('bella');
    expect(options[1]).toHaveAccessibleName('bob');
    expect(options[0]).toHaveAttribute('aria-selected', 'true');
    expect(box).toHaveAttribute('aria-activedescendant', options[0]?.id);

    await user.keyboard('{ArrowDown}');
    expect(within(list).getByRole('option', { name: 'bob' })).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{Enter}');
    expect(box).toHaveValue('hi <@2> ');
    expect(screen.queryByRole('listbox')).not.toBeInTheDocument();
    expect(onSend).not.toHaveBeenCalled();

    await user.type(box, 'there{Enter}');
    expect(onSend).toHaveBeenCalledWith('hi <@2> there');
  });

  it('picks with Tab or a click, wraps with the arrow keys, and closes with Escape', async () => {
    const { box, user } = setup();
    await user.type(box, '@');
    expect(screen.getAllByRole('option')).toHaveLength(3);
    await user.keyboard('{ArrowUp}');
    expect(screen.getByRole('option', { name: 'carol' })).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{Tab}');
    expect(box).toHaveValue('<@4> ');
    expect(box).toHaveFocus();

    await user.type(box, '@be');
    await user.click(screen.getByRole('option', { name: 'bella' }));
    expect(box).toHaveValue('<@4> <@3> ');

    await user.type(box, '@c');
    expect(screen.getByRole('listbox')).toBeInTheDocument();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('listbox')).not.toBeInTheDocument();
    // Enter sends as usual once the list is closed.
    await user.keyboard('{Enter}');
    expect(box).toHaveValue('');
  });

  it('offers nothing without people', async () => {
    const { box, user } = setup(false);
    await user.type(box, '@b');
    expect(screen.queryByRole('listbox')).not.toBeInTheDocument();
    await user.clear(box);
    expect(box).toHaveValue('');
  });

  it('does not complete an @ inside a word', async () => {
    const { box, user } = setup();
    await user.type(box, 'mail@b');
    expect(screen.queryByRole('listbox')).not.toBeInTheDocument();
  });
});
