import { Route, Routes } from 'react-router';
import { RequireAuth, SessionWatcher } from './auth/session';
import { Layout } from './components/Layout';
import { ChannelView } from './pages/ChannelView';
import { ConversationView } from './pages/ConversationView';
import { CreateServerPage } from './pages/CreateServerPage';
import { ExplorePage } from './pages/ExplorePage';
import { HomeIndex, HomePage } from './pages/HomePage';
import { LoginPage } from './pages/LoginPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { RegisterPage } from './pages/RegisterPage';
import { ServerIndex, ServerPage } from './pages/ServerPage';

// Client routes never look like /<number>/<number>: that is the backend's socket path.
export function App() {
  return (
    <>
      <SessionWatcher />
      <Routes>
        <Route element={<Layout />}>
          <Route index element={<ExplorePage />} />
          <Route path="explore/:category" element={<ExplorePage />} />
          <Route path="login" element={<LoginPage />} />
          <Route path="register" element={<RegisterPage />} />
          <Route element={<RequireAuth />}>
            <Route path="dms" element={<HomePage />}>
              <Route index element={<HomeIndex />} />
              <Route path=":conversationId" element={<ConversationView />} />
            </Route>
            <Route path="servers/new" element={<CreateServerPage />} />
            <Route path="servers/:serverId" element={<ServerPage />}>
              <Route index element={<ServerIndex />} />
              <Route path="channels/:channelId" element={<ChannelView />} />
            </Route>
          </Route>
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
    </>
  );
}
