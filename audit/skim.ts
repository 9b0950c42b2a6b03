// Reading audit lines without parsing them. kube-apiserver's encoder (Go's encoding/json) writes an
// Event's fields in struct order (kind, apiVersion, level, auditID, stage, requestURI, verb, user,
// impersonatedUser, sourceIPs, userAgent, objectRef, responseStatus, requestObject,
// responseObject, requestReceivedTimestamp, stageTimestamp, annotations), never repeats a key,
// adds no whitespace, and escapes every quote inside a string. So most of its lines can be judged
// from a few fields read in place:
// - isRequestReceivedLine: the RequestReceived stage, which never alerts;
// - skimLine: a completed request (ResponseComplete), its fields read and the line's structure
//   checked as JSON.parse would see it; AuditAnalyser.skipLine then decides whether any part of the
//   analysis would look at it (most lines are the control plane's reads, lease updates and pods
//   created by controllers, and none would).
// Anything else — another field order (a log shipper re-encoding events), another version, an
// escape in a field that is read, a line cut short or two run together — is parsed as usual: an
// unusual line costs time, never an alert.

const RR_HEAD = '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"';
const RR_ID_KEY = '","auditID":"';
const RR_HEAD_SHORT = '{"kind":"Event"';
const RR_STAGE = '","stage":"RequestReceived","';
/** An auditID longer than this is left to JSON.parse (and the analyser's hashing). */
const MAX_ID = 256;

/**
 * Whether a line is a RequestReceived event exactly as kube-apiserver writes it; the top-level
 * stage is read without parsing the rest. The auditID is the client's Audit-ID header, so it is
 * read as a JSON string: one with a backslash in it is left to JSON.parse.
 */
export function isRequestReceivedLine(text: string): boolean {
  // First a few characters at the places the API server's encoding puts them (most lines are
  // another stage, and are told apart here in a few nanoseconds), then the whole check.
  const l = RR_HEAD.length;
  const c = text.charCodeAt(l);
  const levelEnd = c === 77 /* M: Metadata */ ? l + 8 : c === 82 /* R: Request, RequestResponse */ ? (text.charCodeAt(l + 7) === 34 ? l + 7 : l + 15) : -1;
  if (levelEnd < 0) return false;
  const idStart = levelEnd + RR_ID_KEY.length;
  const end = text.indexOf('"', idStart);
  if (end <= idStart || end - idStart > MAX_ID || text.charCodeAt(end + 13) !== 113 /* the q of RequestReceived */) return false;
  const level = text.slice(l, levelEnd);
  if (level !== 'Metadata' && level !== 'Request' && level !== 'RequestResponse') return false;
  if (!text.startsWith(RR_HEAD) || !text.startsWith(RR_ID_KEY, levelEnd) || !text.startsWith(RR_STAGE, end)) return false;
  // A line cut short, or two writes run together (a crash mid-line), is parsed and reported. (One
  // cut right after an inner `}` is counted as an event: it could not have raised an alert either.)
  if (text.charCodeAt(text.length - 1) !== 125 /* } */ || text.indexOf(RR_HEAD_SHORT, 1) >= 0) return false;
  const slash = text.indexOf('\\', idStart);
  return slash < 0 || slash > end;
}

/** The fields of a completed request that decide which parts of the analysis look at it. */
export interface SkimmedLine {
  auditID: string;
  /** Decoded (Go writes `&`, `<`, `>` as \\u0026, \\u003c, \\u003e). */
  requestURI: string;
  verb: string;
  /** `user.username`; the line has no impersonatedUser. */
  username: string;
  /** '' when absent. */
  userAgent: string;
  /** `objectRef.resource`, `.subresource`, `.apiGroup`, `.namespace`, `.name` ('' when absent). */
  resource: string;
  subresource: string;
  apiGroup: string;
  namespace: string;
  name: string;
  requestReceivedTimestamp: string;
  /** `responseStatus.code`. */
  code: number;
}

// The grammar of such a line, as a regular expression (irregexp runs it as native code: a third
// of JSON.parse's time, where a walk in JavaScript took two thirds). Exact JSON: every string is
// checked escape by escape and has no raw control character, every object and array is closed,
// nothing stands between tokens; each field the analysis reads is captured and must be free of
// escapes (decoded, it could differ from the text). Written as unrolled loops (`"C*(?:\\.C*)*"`)
// and optional fields each with its own key, it backtracks no more than one character class's
// run: time is linear in the line.
/** A character of a string that needs no escape. */
const C = String.raw`[^"\\\x00-\x1f]`;
/** Any JSON string. */
const S = String.raw`"${C}*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})${C}*)*"`;
/** A string that is read: captured, without escapes. */
const P = String.raw`"(${C}*)"`;
/** An array of strings; an object of arrays of strings (UserInfo.extra). */
const STRINGS = String.raw`\[(?:${S}(?:,${S})*)?\]`;
const EXTRA = String.raw`\{(?:${S}:${STRINGS}(?:,${S}:${STRINGS})*)?\}`;
/** UserInfo, its fields in Go's order: username (read), uid, groups, extra. */
const USER = String.raw`\{"username":${P}(?:,"uid":${S})?(?:,"groups":${STRINGS})?(?:,"extra":${EXTRA})?\}`;
/** ObjectReference: resource, namespace, name (read), uid, apiGroup (read), apiVersion, resourceVersion, subresource (read). */
const REF = String.raw`\{"resource":${P}(?:,"namespace":${P})?(?:,"name":${P})?(?:,"uid":${S})?(?:,"apiGroup":${P})?(?:,"apiVersion":${S})?(?:,"resourceVersion":${S})?(?:,"subresource":${P})?\}`;
/** Status without details: metadata (empty), status, message, reason, code (read). */
const STATUS = String.raw`\{"metadata":\{\}(?:,"status":${S})?(?:,"message":${S})?(?:,"reason":${S})?,"code":([1-9][0-9]{0,2})\}`;
/** An annotation key, written without escapes, that is not the ValidatingAdmissionPolicy failure's (audit/vap.ts: analysed). */
const KEY = String.raw`"(?!validation\.policy\.admission\.k8s\.io/validation_failure")${C}*"`;
const HEAD_OF_COMPLETED = new RegExp(
  String.raw`^\{"kind":"Event","apiVersion":"audit\.k8s\.io/v1","level":"(?:Metadata|Request|RequestResponse)","auditID":"(${C}{1,${MAX_ID}})","stage":"ResponseComplete",` +
    // A dry run is told from the URI's query (isDryRun): such a line is parsed. The URI may hold
    // the escapes Go writes for `&` (between query parameters), `<` and `>`, none of which can
    // spell `dryRun`; any other escape is not the API server's.
    String.raw`"requestURI":"(?![^"]*dryRun)(${C}*(?:\\u00(?:26|3[cCeE])${C}*)*)","verb":${P},"user":${USER}` +
    // No impersonatedUser (it would come here).
    String.raw`(?:,"sourceIPs":${STRINGS})?(?:,"userAgent":${P})?(?:,"objectRef":${REF})?,"responseStatus":${STATUS}`,
);
const TIMESTAMPS_KEY = ',"requestReceivedTimestamp":';
/** From `,"requestReceivedTimestamp":` to the end of the line. */
const TAIL = new RegExp(String.raw`,"requestReceivedTimestamp":"${C}*","stageTimestamp":${S}(?:,"annotations":\{(?:${KEY}:${S}(?:,${KEY}:${S})*)?\})?\}$`, 'y');
const BODY_KEYS = [',"requestObject":{', ',"responseObject":{'];
/** The only escapes the URI may hold (see HEAD_OF_COMPLETED). */
const GO_ESCAPE = /\\u00(?:26|3[cCeE])/g;
const VAP_KEY = '"validation.policy.admission.k8s.io/validation_failure"';

/** Longer lines are parsed (they hold bodies, or are not the API server's); this bounds the skim's time and stack. */
export const MAX_SKIM_CHARS = 64 * 1024;

/**
 * A completed request's line as the API server writes it, without impersonation, a dry run or a
 * ValidatingAdmissionPolicy failure annotation: the fields that decide which parts of the analysis
 * look at it, read once the line was matched as the JSON object they come from (all of it but the
 * request and response bodies). Undefined for every other line (it is parsed).
 */
export function skimLine(text: string): SkimmedLine | undefined {
  if (text.length > MAX_SKIM_CHARS) return undefined;
  const m = HEAD_OF_COMPLETED.exec(text);
  if (m === null) return undefined;
  const headEnd = m[0].length;
  let tail = headEnd;
  if (!text.startsWith(TIMESTAMPS_KEY, headEnd)) {
    // Request and response bodies (level Request, RequestResponse): objects the API server encoded,
    // whose strings it escaped, so their keys and values — whatever the client sent — cannot
    // close them. The timestamps after them are the line's last `,"requestReceivedTimestamp":`
    // (annotations, after them, are a flat map of strings), and the tail is read exactly from
    // there; the bodies between are taken as the API server wrote them, not read.
    if (!text.startsWith(BODY_KEYS[0]!, headEnd) && !text.startsWith(BODY_KEYS[1]!, headEnd)) return undefined;
    tail = text.lastIndexOf(TIMESTAMPS_KEY);
    if (tail <= headEnd || text.charCodeAt(tail - 1) !== 125 /* } */) return undefined;
    // A ValidatingAdmissionPolicy failure annotation anywhere in the line is analysed (audit/vap.ts).
    if (text.indexOf(VAP_KEY, headEnd) >= 0) return undefined;
  }
  TAIL.lastIndex = tail;
  if (!TAIL.test(text)) return undefined;
  const received = tail + TIMESTAMPS_KEY.length + 1;
  const uri = m[2]!;
  return {
    auditID: m[1]!,
    requestURI: uri.includes('\\') ? uri.replace(GO_ESCAPE, (e) => String.fromCharCode(parseInt(e.slice(2), 16))) : uri,
    verb: m[3]!,
    username: m[4]!,
    userAgent: m[5] ?? '',
    resource: m[6] ?? '',
    namespace: m[7] ?? '',
    name: m[8] ?? '',
    apiGroup: m[9] ?? '',
    subresource: m[10] ?? '',
    code: Number(m[11]),
    requestReceivedTimestamp: text.slice(received, text.indexOf('"', received)),
  };
}
