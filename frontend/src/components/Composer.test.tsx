import { render, screen } from '@testing-library/react';
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
