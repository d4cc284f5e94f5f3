import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { keys, useMembership, useServer } from '../api/queries';
import { json, mockFetch, renderWithProviders } from '../test/render';
import { JoinLeaveButton } from './JoinLeaveButton';
import { memberCountText } from './Status';

/** The button as the server page wires it: membership and member count from the API. */
function Harness({ serverId, isOwner = false }: { serverId: number; isOwner?: boolean }) {
  const membership = useMembership(serverId);
  const server = useServer(serverId);
  return (
    <>
      <p data-testid="member-count">{server.data ? memberCountText(server.data.num_members) : ''}</p>
      <JoinLeaveButton serverId={serverId} isOwner={isOwner} isMember={membership.data} />
    </>
  );
}

function server(numMembers: number) {
  return {
    id: 5,
    name: 'Rustaceans',
    owner: 1,
    category: 'programming',
    description: '',
    icon: null,
    banner: null,
    channel_server: [],
    num_members: numMembers,
  };
}

describe('JoinLeaveButton', () => {
  it('joins, then offers to leave, with the member count refreshed', async () => {
    let member = false;
    const { fetch, calls } = mockFetch({
      'GET /api/membership/5/membership/is_member/': () => json(200, { is_member: member }),
      'GET /api/servers/5/': () => json(200, server(member ? 4 : 3)),
      'POST /api/membership/5/membership/': () => {
        member = true;
        return json(200, { message: 'User joined server successfully' });
      },
      'DELETE /api/membership/5/membership/remove_member/': () => {
        member = false;
        return json(200, { message: 'User removed from server' });
      },
    });
    renderWithProviders(<Harness serverId={5} />, { fetch });
    const user = userEvent.setup();

    await user.click(await screen.findByRole('button', { name: 'Join server' }));
    expect(await screen.findByRole('button', { name: 'Leave server' })).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId('member-count')).toHaveTextContent('4 members'));
    expect(calls).toContain('POST /api/membership/5/membership/');

    await user.click(screen.getByRole('button', { name: 'Leave server' }));
    expect(await screen.findByRole('button', { name: 'Join server' })).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId('member-count')).toHaveTextContent('3 members'));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('shows the 409 error in an alert', async () => {
    const { fetch } = mockFetch({
      'GET /api/membership/5/membership/is_member/': () => json(200, { is_member: false }),
      'GET /api/servers/5/': () => json(200, server(3)),
      'POST /api/membership/5/membership/': () =>
        json(409, { error: 'User is already a member', code: 'already_member' }),
    });
    renderWithProviders(<Harness serverId={5} />, { fetch });
    await userEvent.click(await screen.findByRole('button', { name: 'Join server' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('User is already a member');
  });

  it('shows a 404 when leaving a server one is no longer in', async () => {
    const { fetch } = mockFetch({
      'GET /api/membership/5/membership/is_member/': () => json(200, { is_member: true }),
      'GET /api/servers/5/': () => json(200, server(3)),
      'DELETE /api/membership/5/membership/remove_member/': () =>
        json(404, { error: 'User is not a member', code: 'not_member' }),
    });
    renderWithProviders(<Harness serverId={5} />, { fetch });
    await userEvent.click(await screen.findByRole('button', { name: 'Leave server' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('User is not a member');
  });

  it('gives the owner no Leave button (nor a Join one)', async () => {
    const { fetch } = mockFetch({
      'GET /api/membership/5/membership/is_member/': () => json(200, { is_member: true }),
      'GET /api/servers/5/': () => json(200, server(3)),
    });
    const { queryClient } = renderWithProviders(<Harness serverId={5} isOwner />, { fetch });
    await waitFor(() => expect(queryClient.getQueryData(keys.membership(5))).toBe(true));
    expect(screen.getByText('You own this server')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Leave server' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Join server' })).not.toBeInTheDocument();
  });
});
