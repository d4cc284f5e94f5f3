// Short names for the generated OpenAPI types. Nothing here is hand-written: every type is an
// alias of (or derived from) src/api/schema.d.ts, which `npm run generate` produces.
import type { components } from './schema';

type Schemas = components['schemas'];

export type Category = Schemas['CategoryDto'];
export type Server = Schemas['ServerDto'];
export type ServerView = Schemas['ServerView'];
export type Channel = Schemas['ChannelDto'];
export type ChannelView = Schemas['ChannelView'];
export type Message = Schemas['MessageDto'];
export type ChatMessage = Schemas['ChatMessage'];
/** One emoji's reactions to a message (history pages): how many, and whether I am among them. */
export type Reaction = Schemas['Reaction'];
/** The answer to adding or taking back my reaction: the emoji's count now, and whether I am among them. */
export type ReactionChange = Schemas['ReactionDto'];
/** What a reply shows of the message it answers. */
export type ReplyPreview = Schemas['ReplyPreview'];
export type UserRef = Schemas['UserRef'];
export type ErrorBody = Schemas['ErrorBody'];
export type ClientFrame = Schemas['ClientFrame'];
export type ServerFrame = Schemas['ServerFrame'];
export type GatewayEvent = Schemas['Event'];
/** Every frame the chat socket can send us. */
export type IncomingFrame = GatewayEvent | ServerFrame;
export type CurrentUser = Schemas['CurrentUserResponse'];
export type Member = Schemas['MemberDto'];
/** A direct (1:1) or group conversation. */
export type Conversation = Schemas['ConversationDto'];
/** Where I stand in one channel or conversation: read up to, unread and mention counts. */
export type Unread = Schemas['UnreadDto'];
export type SearchPage = Schemas['SearchPage'];
export type SearchHit = Schemas['SearchHitDto'];
export type ExcerptPart = Schemas['ExcerptPartDto'];
