import { describe, expect, it } from 'vitest';
import { buildMessages, foldMarkers, foldTranscript, taskOf } from '../../src/chat/conversation.js';
import { runNameFromId } from '../../src/openai/types.js';

const history = [
  { user: 'my name is Ada', assistant: 'Hello Ada.' },
  { user: 'I like Go', assistant: 'Noted.' },
];

describe('what a turn sends', () => {
  it('fold: earlier turns become a delimited transcript inside the last user message (the only one upstream reads)', () => {
    const messages = buildMessages({ system: 'be brief', history, message: 'what is my name?', mode: 'fold' });
    expect(messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(messages[1]!.content).toBe(
      [foldMarkers.begin, '[user]\nmy name is Ada', '[assistant]\nHello Ada.', '[user]\nI like Go', '[assistant]\nNoted.', foldMarkers.end, '', 'what is my name?'].join('\n'),
    );
    expect(taskOf(messages)).toBe(messages[1]!.content);
  });

  it('fold with no history is just the message', () => {
    expect(foldTranscript([], 'hi')).toBe('hi');
    expect(buildMessages({ history: [], message: 'hi', mode: 'fold' })).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('send passes the turns as messages; none drops them', () => {
    expect(buildMessages({ history, message: 'q', mode: 'send' }).map((m) => `${m.role}:${m.content}`)).toEqual([
      'user:my name is Ada',
      'assistant:Hello Ada.',
      'user:I like Go',
      'assistant:Noted.',
      'user:q',
    ]);
    expect(buildMessages({ history, message: 'q', mode: 'none' })).toEqual([{ role: 'user', content: 'q' }]);
  });

  it('the run behind an answer comes from its id', () => {
    expect(runNameFromId('chatcmpl-demo-web-x7k2p')).toBe('demo-web-x7k2p');
    expect(runNameFromId('chatcmpl-abc123XYZ')).toBeUndefined();
    expect(runNameFromId('resp_123')).toBeUndefined();
    expect(runNameFromId(undefined)).toBeUndefined();
  });
});
