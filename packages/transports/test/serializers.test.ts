/**
 * The telephony serializers against the providers' documented example messages (Twilio
 * "Media Streams — WebSocket Messages", Telnyx "Stream call media over WebSocket", Plivo
 * "Stream Event Protocol", Exotel "AgentStream WebSocket protocol"): what we receive
 * leniently, and the exact shapes we send.
 */
import { describe, expect, it } from "vitest";
import { mulawToPcm, pcmToMulaw } from "@voxpipe/core";
import { tonePcm } from "@voxpipe/core/testing";
import {
  BrowserFrameSerializer,
  ExotelFrameSerializer,
  PlivoFrameSerializer,
  TelnyxFrameSerializer,
  TwilioFrameSerializer,
} from "../src/index.js";

const ulaw = pcmToMulaw(tonePcm(440, 20, 8000));
const b64 = Buffer.from(ulaw).toString("base64");

describe("TwilioFrameSerializer", () => {
  it("reads the documented start, media, dtmf, mark and stop messages", () => {
    const s = new TwilioFrameSerializer();
    expect(s.deserialize('{"event":"connected","protocol":"Call","version":"1.0.0"}')).toEqual({
      type: "connected",
    });
    const start = s.deserialize(
      JSON.stringify({
        event: "start",
        sequenceNumber: "1",
        start: {
          accountSid: "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
          streamSid: "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
          callSid: "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
          tracks: ["inbound"],
          mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
          customParameters: { FirstName: "Jane", LastName: "Doe" },
        },
        streamSid: "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
      }),
    );
    expect(start).toEqual({
      type: "start",
      call: {
        streamId: "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        callId: "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        accountId: "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        customParameters: { FirstName: "Jane", LastName: "Doe" },
        inputFormat: { encoding: "mulaw", sampleRate: 8000 },
      },
    });
    const media = s.deserialize(
      JSON.stringify({
        event: "media",
        sequenceNumber: "3",
        media: { track: "inbound", chunk: "1", timestamp: "5", payload: b64 },
        streamSid: "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
      }),
    );
    expect(media).toMatchObject({ type: "audio", streamId: "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX" });
    expect(media.type === "audio" && [...media.audio]).toEqual([...ulaw]);
    expect(
      s.deserialize(
        '{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}}',
      ),
    ).toEqual({ type: "dtmf", button: "1", streamId: "MZ1" });
    expect(
      s.deserialize(
        '{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"my label"}}',
      ),
    ).toEqual({ type: "mark", name: "my label", streamId: "MZ1" });
    expect(
      s.deserialize(
        '{"event":"stop","sequenceNumber":"5","stop":{"accountSid":"AC1","callSid":"CA1"},"streamSid":"MZ1"}',
      ),
    ).toEqual({ type: "stop" });
  });

  it("sends media, mark and clear in Twilio's shapes on the call's streamSid", () => {
    const s = new TwilioFrameSerializer();
    s.deserialize(
      '{"event":"start","start":{"streamSid":"MZ9","callSid":"CA9"},"streamSid":"MZ9"}',
    );
    const pcm = tonePcm(440, 20, 8000);
    const media = JSON.parse(String(s.serializeAudio(pcm))) as {
      event: string;
      streamSid: string;
      media: { payload: string };
    };
    expect(Object.keys(media)).toEqual(["event", "streamSid", "media"]);
    expect(media.event).toBe("media");
    expect(media.streamSid).toBe("MZ9");
    const sent = new Uint8Array(Buffer.from(media.media.payload, "base64"));
    expect(sent.byteLength).toBe(160); // 20 ms of 8 kHz μ-law
    expect([...mulawToPcm(sent)].length).toBe(320);
    expect(s.serializeClear()).toBe('{"event":"clear","streamSid":"MZ9"}');
    expect(s.serializeMark("voxpipe-1")).toBe(
      '{"event":"mark","streamSid":"MZ9","mark":{"name":"voxpipe-1"}}',
    );
  });

  it("receives leniently: bad input is ignored with a reason, never thrown", () => {
    const s = new TwilioFrameSerializer();
    expect(s.deserialize("not json")).toMatchObject({ type: "ignored", error: true });
    expect(s.deserialize("[1,2]")).toMatchObject({ type: "ignored", error: true });
    expect(s.deserialize('{"event":"dance"}')).toMatchObject({
      type: "ignored",
      reason: 'unknown event "dance"',
    });
    expect(s.deserialize('{"event":"media","media":{"payload":"%%%"}}')).toMatchObject({
      type: "ignored",
      error: true,
    });
    expect(s.deserialize('{"event":"dtmf","dtmf":{"digit":"x"}}')).toMatchObject({
      type: "ignored",
    });
    expect(s.deserialize(new Uint8Array([1, 2]))).toMatchObject({ type: "ignored", error: true });
  });
});

describe("TelnyxFrameSerializer", () => {
  it("reads Telnyx's start (PCMA), media, dtmf, mark, stop and sends its shapes", () => {
    const s = new TelnyxFrameSerializer();
    const start = s.deserialize(
      JSON.stringify({
        event: "start",
        sequence_number: "1",
        start: {
          user_id: "3E6F995F-85F7-4705-9741-53B116D28237",
          call_control_id: "v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg",
          client_state: "aGF2ZSBhIG5pY2UgZGF5ID1d",
          media_format: { encoding: "PCMA", sample_rate: 8000, channels: 1 },
        },
        stream_id: "32DE0DEA-53CB-4B21-89A4-9E1819C043BC",
      }),
    );
    expect(start).toMatchObject({
      type: "start",
      call: {
        streamId: "32DE0DEA-53CB-4B21-89A4-9E1819C043BC",
        callId: "v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg",
        inputFormat: { encoding: "alaw", sampleRate: 8000 },
      },
    });
    expect(
      s.deserialize(
        JSON.stringify({
          event: "media",
          sequence_number: "4",
          media: { track: "inbound", chunk: "2", timestamp: "5", payload: b64 },
          stream_id: "32DE0DEA-53CB-4B21-89A4-9E1819C043BC",
        }),
      ),
    ).toMatchObject({ type: "audio", streamId: "32DE0DEA-53CB-4B21-89A4-9E1819C043BC" });
    expect(
      s.deserialize(
        '{"event":"dtmf","stream_id":"32DE","occurred_at":"2022-03-25T15:08:41.640528Z","sequence_number":"4","dtmf":{"digit":"#"}}',
      ),
    ).toEqual({ type: "dtmf", button: "#", streamId: "32DE" });
    expect(
      s.deserialize(
        '{"event":"mark","sequence_number":"4","stream_id":"32DE","mark":{"name":"a"}}',
      ),
    ).toEqual({ type: "mark", name: "a", streamId: "32DE" });
    expect(
      s.deserialize(
        '{"event":"stop","sequence_number":"5","stop":{"call_control_id":"v3:x"},"stream_id":"32DE"}',
      ),
    ).toEqual({ type: "stop" });
    const media = JSON.parse(String(s.serializeAudio(tonePcm(440, 20, 8000)))) as {
      event: string;
      media: { payload: string };
    };
    expect(Object.keys(media)).toEqual(["event", "media"]);
    expect(Buffer.from(media.media.payload, "base64").byteLength).toBe(160);
    expect(s.serializeClear()).toBe('{"event":"clear"}');
    expect(s.serializeMark("m")).toBe('{"event":"mark","mark":{"name":"m"}}');
    expect(
      new TelnyxFrameSerializer().deserialize(
        '{"event":"start","stream_id":"x","start":{"media_format":{"encoding":"L16","sample_rate":16000}}}',
      ),
    ).toMatchObject({ type: "ignored", error: true });
  });
});

describe("PlivoFrameSerializer", () => {
  it("reads Plivo's start, media, dtmf, playedStream and sends playAudio/checkpoint/clearAudio", () => {
    const s = new PlivoFrameSerializer();
    expect(
      s.deserialize(
        JSON.stringify({
          event: "start",
          sequenceNumber: 1,
          start: {
            callId: "12345678-1234-1234-1234-123456789abc",
            streamId: "87654321-4321-4321-4321-cba987654321",
            accountId: "MAXXXXXXXXXXXXXXXXXX",
            tracks: ["inbound"],
            mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000 },
          },
          extra_headers: "userId=12345;sessionId=abc-xyz",
        }),
      ),
    ).toEqual({
      type: "start",
      call: {
        streamId: "87654321-4321-4321-4321-cba987654321",
        callId: "12345678-1234-1234-1234-123456789abc",
        accountId: "MAXXXXXXXXXXXXXXXXXX",
        customParameters: { userId: "12345", sessionId: "abc-xyz" },
        inputFormat: { encoding: "mulaw", sampleRate: 8000 },
      },
    });
    expect(
      s.deserialize(
        JSON.stringify({
          event: "media",
          sequenceNumber: 42,
          streamId: "87654321-4321-4321-4321-cba987654321",
          media: { track: "inbound", timestamp: "1705312200000", chunk: 41, payload: b64 },
        }),
      ),
    ).toMatchObject({ type: "audio" });
    expect(
      s.deserialize(
        '{"event":"playedStream","streamId":"20170ada-f610-433b-8758-c02a2aab3662","name":"customer greeting audio"}',
      ),
    ).toEqual({
      type: "mark",
      name: "customer greeting audio",
      streamId: "20170ada-f610-433b-8758-c02a2aab3662",
    });
    expect(
      s.deserialize('{"event":"dtmf","streamId":"s","dtmf":{"digit":"5","track":"inbound"}}'),
    ).toMatchObject({ type: "dtmf", button: "5" });
    const play = JSON.parse(String(s.serializeAudio(tonePcm(440, 20, 8000)))) as Record<
      string,
      unknown
    >;
    expect(play).toMatchObject({
      event: "playAudio",
      media: { contentType: "audio/x-mulaw", sampleRate: 8000 },
      streamId: "87654321-4321-4321-4321-cba987654321",
    });
    expect(s.serializeClear()).toBe(
      '{"event":"clearAudio","streamId":"87654321-4321-4321-4321-cba987654321"}',
    );
    expect(s.serializeMark("n")).toBe(
      '{"event":"checkpoint","streamId":"87654321-4321-4321-4321-cba987654321","name":"n"}',
    );
  });
});

describe("ExotelFrameSerializer", () => {
  it("reads Exotel's PCM start/media/dtmf/mark/stop and sends its shapes", () => {
    const s = new ExotelFrameSerializer();
    expect(
      s.deserialize(
        JSON.stringify({
          event: "start",
          sequence_number: "1",
          stream_sid: "MZxxxxxxxxxxxxxxxxxxxxxxxx",
          start: {
            stream_sid: "MZxxxxxxxxxxxxxxxxxxxxxxxx",
            call_sid: "CAxxxxxxxxxxxxxxxxxxxxxxxx",
            account_sid: "ACxxxxxxxxxxxxxxxxxxxxxxxx",
            from: "+919876543210",
            to: "+918047491899",
            custom_parameters: { key1: "value1" },
            media_format: { encoding: "audio/x-raw", sample_rate: "8000", bit_rate: "16" },
          },
        }),
      ),
    ).toEqual({
      type: "start",
      call: {
        streamId: "MZxxxxxxxxxxxxxxxxxxxxxxxx",
        callId: "CAxxxxxxxxxxxxxxxxxxxxxxxx",
        accountId: "ACxxxxxxxxxxxxxxxxxxxxxxxx",
        customParameters: { key1: "value1" },
        inputFormat: { encoding: "linear16", sampleRate: 8000 },
      },
    });
    expect(
      s.deserialize(
        '{"event":"dtmf","sequence_number":"7","stream_sid":"MZx","dtmf":{"digit":"5","duration":"100"}}',
      ),
    ).toEqual({ type: "dtmf", button: "5", streamId: "MZx" });
    expect(
      s.deserialize(
        '{"event":"mark","sequence_number":"15","stream_sid":"MZx","mark":{"name":"m1"}}',
      ),
    ).toEqual({ type: "mark", name: "m1", streamId: "MZx" });
    const pcm = tonePcm(440, 20, 8000);
    const media = JSON.parse(String(s.serializeAudio(pcm))) as { media: { payload: string } };
    // Exotel takes raw PCM s16le: the payload is the PCM itself.
    expect(Buffer.from(media.media.payload, "base64").equals(Buffer.from(pcm))).toBe(true);
    expect(s.serializeClear()).toBe('{"event":"clear","stream_sid":"MZxxxxxxxxxxxxxxxxxxxxxxxx"}');
  });
});

describe("BrowserFrameSerializer", () => {
  it("takes binary PCM after a start, refuses a bad sample rate, sends clear/marks/events", () => {
    const s = new BrowserFrameSerializer();
    expect(s.deserialize('{"type":"start","sampleRate":16000}')).toMatchObject({
      type: "start",
      call: { inputFormat: { sampleRate: 16000, encoding: "linear16" } },
    });
    const bad = s.deserialize('{"type":"start","sampleRate":"fast"}');
    expect(bad).toMatchObject({ type: "ignored", error: true });
    expect(bad.type === "ignored" && bad.reason).toContain("start.sampleRate");
    expect(s.deserialize(new Uint8Array(4))).toMatchObject({ type: "audio" });
    expect(s.deserialize(new Uint8Array(3))).toMatchObject({ type: "ignored", error: true });
    expect(s.serializeClear()).toBe('{"type":"clear"}');
    expect(s.serializeEvent({ event: "EndOfTurn", transcript: "hi" })).toBe(
      '{"type":"event","event":"EndOfTurn","transcript":"hi"}',
    );
  });
});
