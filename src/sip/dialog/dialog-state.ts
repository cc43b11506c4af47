/**
 * The state of one dialog as RFC 3261 §12 defines it, kept as a plain JSON-able record so it can be stored and
 * rebuilt across restarts without class instances. URIs are kept as text, exactly as they will be written.
 */
export interface DialogState {
  callId: string;
  /** Our tag. */
  localTag: string;
  /** The peer's tag; empty when the peer sent none (RFC 3261 §12.1.1 allows a missing From tag from RFC 2543 UAs). */
  remoteTag: string;
  /** Our URI: the To URI of the request that created the dialog at a UAS (§12.1.1). */
  localUri: string;
  /** The peer's URI: the From URI of that request. */
  remoteUri: string;
  /** Where in-dialog requests are addressed: the peer's Contact URI (§12.1.1), refreshed by target refresh requests. */
  remoteTarget: string;
  /** Record-Route URIs in the order our requests use them (§12.1.1: at a UAS, the order they arrived in). */
  routeSet: string[];
  /** CSeq of the last request we sent in the dialog; 0 before the first (§12.1.1 leaves it empty at a UAS). */
  localCseq: number;
  /** CSeq of the last request the peer sent that we accepted (§12.2.2 ordering). */
  remoteCseq: number;
}

/**
 * The dialog id (RFC 3261 §12: Call-ID plus both tags) as one string. `;` occurs neither in a Call-ID (§25.1 `word`)
 * nor in a tag (`token`), so the joined form is unambiguous; it is the same form the store uses as a subscription key.
 */
export function dialogId(callId: string, localTag: string, remoteTag: string): string {
  return `${callId};${localTag};${remoteTag}`;
}

/** The id of a dialog state. */
export function idOfDialog(dialog: Pick<DialogState, 'callId' | 'localTag' | 'remoteTag'>): string {
  return dialogId(dialog.callId, dialog.localTag, dialog.remoteTag);
}
