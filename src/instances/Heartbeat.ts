/**
 * The heartbeat file an instance keeps in `processing/<instance>/`: its host,
 * process id and a counter, `stopped` once it stopped cleanly. Read by the
 * instance deciding whether another is dead (Instance) and by the status
 * page (Peers), with one rule for what counts as a heartbeat.
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

export const Heartbeat = Schema.Struct({
  host: Schema.String,
  pid: Schema.Number,
  beat: Schema.Number,
  stopped: Schema.optional(Schema.Boolean)
})
export type Heartbeat = typeof Heartbeat.Type

const decode = Schema.decodeUnknownOption(Schema.parseJson(Heartbeat))

/** A heartbeat's content, if it is one (a heartbeat caught mid-write is not; its change still counts as a beat). */
export const parseHeartbeat = (text: string): Heartbeat | undefined => Option.getOrUndefined(decode(text))
