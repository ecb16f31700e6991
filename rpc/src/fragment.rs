//! Fragmentation and reassembly of calls (C706 12.6.3.1 PFC_FIRST_FRAG /
//! PFC_LAST_FRAG, 12.6.4.9 and 12.6.4.10 alloc_hint), sans-IO.
//!
//! A call whose stub does not fit in one fragment of the negotiated
//! `max_xmit_frag` travels as several PDUs with the same `call_id`: the first
//! flagged PFC_FIRST_FRAG, the last PFC_LAST_FRAG, each carrying the next
//! slice of the stub. The receiver concatenates the stubs in order.
//!
//! Packet security works per fragment: verify or unseal each fragment first,
//! then hand it to [`Reassembler::push`] without its auth verifier.

use crate::error::{EncodeError, ReassemblyError};
use crate::pdu::{Body, HEADER_LEN, Pdu, PfcFlags, Request, Response};

/// Largest stub we preallocate from a peer's `alloc_hint`; more grows as
/// fragments actually arrive.
const MAX_PREALLOCATION: usize = 1 << 20;

/// Stub slices within a fragment are multiples of this, so each fragment's
/// body stays 8-aligned for the auth trailer padding that may follow.
const STUB_CHUNK_ALIGN: usize = 8;

/// Collects the fragments of one request or response into one PDU.
///
/// The result has the first fragment's fields, the concatenated stub,
/// `alloc_hint` set to the stub's length, flags FIRST|LAST and no auth
/// verifier. Fault PDUs end a call: check for them before pushing.
#[derive(Debug)]
pub struct Reassembler {
    call_id: u32,
    limit: usize,
    partial: Option<Pdu>,
    finished: bool,
}

impl Reassembler {
    /// Expects the fragments of `call_id`, whose stub may total at most
    /// `limit` bytes.
    pub fn new(call_id: u32, limit: usize) -> Self {
        Self {
            call_id,
            limit,
            partial: None,
            finished: false,
        }
    }

    /// Whether the last fragment has been pushed.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Adds one fragment; returns the whole call after PFC_LAST_FRAG.
    pub fn push(&mut self, fragment: Pdu) -> Result<Option<Pdu>, ReassemblyError> {
        let call_id = self.call_id;
        if self.finished {
            return Err(ReassemblyError::AfterLastFragment { call_id });
        }
        if !matches!(fragment.body, Body::Request(_) | Body::Response(_)) {
            return Err(ReassemblyError::UnexpectedPacket {
                ptype: fragment.packet_type(),
                call_id,
            });
        }
        if fragment.call_id != call_id {
            return Err(ReassemblyError::CallIdMismatch {
                expected: call_id,
                got: fragment.call_id,
            });
        }
        let first = fragment.flags.contains(PfcFlags::FIRST_FRAG);
        let last = fragment.flags.contains(PfcFlags::LAST_FRAG);
        match self.partial.as_mut() {
            None if !first => return Err(ReassemblyError::MissingFirstFragment { call_id }),
            None => self.start(fragment)?,
            Some(_) if first => return Err(ReassemblyError::UnexpectedFirstFragment { call_id }),
            Some(partial) => append(partial, fragment, self.limit)?,
        }
        if !last {
            return Ok(None);
        }
        self.finished = true;
        Ok(self.partial.take().map(finish))
    }

    fn start(&mut self, mut fragment: Pdu) -> Result<(), ReassemblyError> {
        fragment.auth = None;
        let Some((hint, stub)) = stub_of(&mut fragment.body) else {
            return Err(ReassemblyError::UnexpectedPacket {
                ptype: fragment.packet_type(),
                call_id: self.call_id,
            });
        };
        if stub.len() > self.limit {
            return Err(ReassemblyError::TooLarge {
                call_id: self.call_id,
                limit: self.limit,
            });
        }
        let want = usize::try_from(hint)
            .unwrap_or(usize::MAX)
            .min(self.limit)
            .min(MAX_PREALLOCATION);
        stub.reserve(want.saturating_sub(stub.len()));
        self.partial = Some(fragment);
        Ok(())
    }
}

/// The `alloc_hint` and stub of a request or response.
fn stub_of(body: &mut Body) -> Option<(u32, &mut Vec<u8>)> {
    match body {
        Body::Request(r) => Some((r.alloc_hint, &mut r.stub)),
        Body::Response(r) => Some((r.alloc_hint, &mut r.stub)),
        _ => None,
    }
}

fn append(partial: &mut Pdu, fragment: Pdu, limit: usize) -> Result<(), ReassemblyError> {
    let call_id = partial.call_id;
    let more = match (&mut partial.body, fragment.body) {
        (Body::Request(have), Body::Request(next)) => {
            if next.context_id != have.context_id {
                return Err(context_mismatch(call_id, have.context_id, next.context_id));
            }
            if next.opnum != have.opnum {
                return Err(ReassemblyError::OpnumMismatch {
                    call_id,
                    expected: have.opnum,
                    got: next.opnum,
                });
            }
            next.stub
        }
        (Body::Response(have), Body::Response(next)) => {
            if next.context_id != have.context_id {
                return Err(context_mismatch(call_id, have.context_id, next.context_id));
            }
            next.stub
        }
        (_, other) => {
            return Err(ReassemblyError::UnexpectedPacket {
                ptype: other.packet_type(),
                call_id,
            });
        }
    };
    let Some((_, stub)) = stub_of(&mut partial.body) else {
        return Ok(());
    };
    if stub.len().saturating_add(more.len()) > limit {
        return Err(ReassemblyError::TooLarge { call_id, limit });
    }
    stub.extend_from_slice(&more);
    Ok(())
}

fn context_mismatch(call_id: u32, expected: u16, got: u16) -> ReassemblyError {
    ReassemblyError::ContextMismatch {
        call_id,
        expected,
        got,
    }
}

fn finish(mut pdu: Pdu) -> Pdu {
    pdu.flags |= PfcFlags::SINGLE;
    if let Some((_, stub)) = stub_of(&mut pdu.body) {
        let len = hint(stub.len());
        match &mut pdu.body {
            Body::Request(r) => r.alloc_hint = len,
            Body::Response(r) => r.alloc_hint = len,
            _ => {}
        }
    }
    pdu
}

/// Splits a request into fragments of at most `max_xmit_frag` bytes
/// (without auth verifiers; their room is not reserved yet).
///
/// Every fragment repeats the context id, opnum and object UUID; its
/// `alloc_hint` is the stub length still to send, this fragment included.
/// A request with an empty stub is one fragment.
pub fn fragment_request(
    call_id: u32,
    request: &Request,
    max_xmit_frag: u16,
) -> Result<impl Iterator<Item = Pdu> + '_, EncodeError> {
    let chunk = chunk_len(max_xmit_frag, request.header_len())?;
    Ok(
        chunks(&request.stub, chunk).map(move |(flags, offset, stub)| Pdu {
            flags,
            ..Pdu::new(
                call_id,
                Body::Request(Request {
                    alloc_hint: hint(request.stub.len() - offset),
                    context_id: request.context_id,
                    opnum: request.opnum,
                    object: request.object,
                    stub: stub.to_vec(),
                }),
            )
        }),
    )
}

/// Splits a response into fragments of at most `max_xmit_frag` bytes (the
/// server side of [`fragment_request`]).
pub fn fragment_response(
    call_id: u32,
    response: &Response,
    max_xmit_frag: u16,
) -> Result<impl Iterator<Item = Pdu> + '_, EncodeError> {
    let chunk = chunk_len(max_xmit_frag, 8)?;
    Ok(
        chunks(&response.stub, chunk).map(move |(flags, offset, stub)| Pdu {
            flags,
            ..Pdu::new(
                call_id,
                Body::Response(Response {
                    alloc_hint: hint(response.stub.len() - offset),
                    context_id: response.context_id,
                    cancel_count: response.cancel_count,
                    reserved: response.reserved,
                    stub: stub.to_vec(),
                }),
            )
        }),
    )
}

fn hint(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// Stub bytes per fragment: what fits after the headers, rounded down to 8.
fn chunk_len(max_xmit_frag: u16, body_header: usize) -> Result<usize, EncodeError> {
    let room = usize::from(max_xmit_frag).saturating_sub(HEADER_LEN + body_header);
    match room - room % STUB_CHUNK_ALIGN {
        0 => Err(EncodeError::FragmentSizeTooSmall { max_xmit_frag }),
        chunk => Ok(chunk),
    }
}

/// `(flags, offset, slice)` for each fragment of `stub` (at least one).
fn chunks(stub: &[u8], chunk: usize) -> impl Iterator<Item = (PfcFlags, usize, &[u8])> {
    let count = stub.len().div_ceil(chunk).max(1);
    (0..count).map(move |i| {
        let offset = i * chunk;
        let end = (offset + chunk).min(stub.len());
        let mut flags = PfcFlags::empty();
        flags.set(PfcFlags::FIRST_FRAG, i == 0);
        flags.set(PfcFlags::LAST_FRAG, i + 1 == count);
        (flags, offset, &stub[offset..end])
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::error::ReassemblyError as E;
    use crate::pdu::{Fault, FaultStatus};
    use crate::uuid::Uuid;

    fn request(len: usize, object: Option<Uuid>) -> Request {
        Request {
            alloc_hint: 0,
            context_id: 1,
            opnum: 21,
            object,
            stub: (0..len).map(|i| i as u8).collect(),
        }
    }

    fn response_fragment(call_id: u32, flags: PfcFlags, stub: Vec<u8>) -> Pdu {
        Pdu {
            flags,
            ..Pdu::new(
                call_id,
                Body::Response(Response {
                    alloc_hint: 0,
                    context_id: 0,
                    cancel_count: 0,
                    reserved: 0,
                    stub,
                }),
            )
        }
    }

    #[test]
    fn request_fragments_fit_and_carry_hints() {
        let req = request(3000, None);
        let frags: Vec<Pdu> = fragment_request(7, &req, 1432).unwrap().collect();
        // 1432 - 24 = 1408 stub bytes per fragment (a multiple of 8).
        assert_eq!(frags.len(), 3);
        let mut seen = 0;
        for (i, frag) in frags.iter().enumerate() {
            assert!(frag.to_bytes().unwrap().len() <= 1432);
            assert_eq!(frag.flags.contains(PfcFlags::FIRST_FRAG), i == 0);
            assert_eq!(frag.flags.contains(PfcFlags::LAST_FRAG), i == 2);
            let Body::Request(r) = &frag.body else {
                panic!()
            };
            assert_eq!(r.alloc_hint as usize, 3000 - seen);
            seen += r.stub.len();
        }
        let empty: Vec<Pdu> = fragment_request(1, &request(0, None), 1432)
            .unwrap()
            .collect();
        assert_eq!(empty.len(), 1);
        assert_eq!(empty[0].flags, PfcFlags::SINGLE);
        assert_eq!(
            fragment_request(1, &request(1, Some(Uuid::NIL)), 47).err(),
            Some(EncodeError::FragmentSizeTooSmall { max_xmit_frag: 47 })
        );
    }

    #[test]
    fn reassembly_rejects_out_of_order_and_foreign_fragments() {
        let mid = || response_fragment(3, PfcFlags::empty(), vec![1; 8]);
        let first = || response_fragment(3, PfcFlags::FIRST_FRAG, vec![1; 8]);

        let mut r = Reassembler::new(3, 100);
        assert_eq!(r.push(mid()), Err(E::MissingFirstFragment { call_id: 3 }));

        let mut r = Reassembler::new(3, 100);
        r.push(first()).unwrap();
        assert_eq!(
            r.push(first()),
            Err(E::UnexpectedFirstFragment { call_id: 3 })
        );
        assert_eq!(
            r.push(response_fragment(4, PfcFlags::LAST_FRAG, vec![])),
            Err(E::CallIdMismatch {
                expected: 3,
                got: 4
            })
        );
        let fault = Pdu::new(3, Body::Fault(Fault::new(0, FaultStatus::NDR)));
        assert!(matches!(
            r.push(fault),
            Err(E::UnexpectedPacket { call_id: 3, .. })
        ));
        let mut other_context = mid();
        if let Body::Response(resp) = &mut other_context.body {
            resp.context_id = 9;
        }
        assert_eq!(
            r.push(other_context),
            Err(E::ContextMismatch {
                call_id: 3,
                expected: 0,
                got: 9
            })
        );
        let done = r
            .push(response_fragment(3, PfcFlags::LAST_FRAG, vec![2; 4]))
            .unwrap()
            .unwrap();
        assert!(r.is_finished());
        let Body::Response(resp) = &done.body else {
            panic!()
        };
        assert_eq!(resp.stub, [[1; 8].as_slice(), &[2; 4]].concat());
        assert_eq!(resp.alloc_hint, 12);
        assert_eq!(r.push(mid()), Err(E::AfterLastFragment { call_id: 3 }));

        let mut r = Reassembler::new(3, 12);
        r.push(first()).unwrap();
        r.push(mid()).unwrap_err();
        let mut r = Reassembler::new(3, 7);
        assert_eq!(
            r.push(first()),
            Err(E::TooLarge {
                call_id: 3,
                limit: 7
            })
        );
    }

    #[test]
    fn request_opnum_must_not_change() {
        let req = request(3000, None);
        let mut frags: Vec<Pdu> = fragment_request(5, &req, 2048).unwrap().collect();
        if let Body::Request(r) = &mut frags[1].body {
            r.opnum = 22;
        }
        let mut r = Reassembler::new(5, 1 << 16);
        r.push(frags.remove(0)).unwrap();
        assert_eq!(
            r.push(frags.remove(0)),
            Err(E::OpnumMismatch {
                call_id: 5,
                expected: 21,
                got: 22
            })
        );
    }

    proptest! {
        #[test]
        fn fragmentation_round_trips(
            len in 0usize..20_000,
            max_xmit_frag in 64u16..=5840,
            object in any::<bool>(),
        ) {
            let req = request(len, object.then_some(Uuid::from_fields(1, 2, 3, [4; 8])));
            let mut r = Reassembler::new(11, 20_000);
            let mut whole = None;
            for frag in fragment_request(11, &req, max_xmit_frag).unwrap() {
                let bytes = frag.to_bytes().unwrap();
                prop_assert!(bytes.len() <= usize::from(max_xmit_frag));
                prop_assert!(whole.is_none());
                whole = r.push(Pdu::decode(&bytes).unwrap()).unwrap();
            }
            let whole = whole.unwrap();
            let Body::Request(got) = whole.body else { panic!() };
            prop_assert_eq!(&got.stub, &req.stub);
            prop_assert_eq!(got.object, req.object);
            prop_assert_eq!(got.alloc_hint as usize, len);

            let resp = Response {
                alloc_hint: 0,
                context_id: 2,
                cancel_count: 0,
                reserved: 0,
                stub: req.stub.clone(),
            };
            let mut r = Reassembler::new(12, 20_000);
            let mut whole = None;
            for frag in fragment_response(12, &resp, max_xmit_frag).unwrap() {
                prop_assert!(frag.to_bytes().unwrap().len() <= usize::from(max_xmit_frag));
                whole = r.push(frag).unwrap();
            }
            let Body::Response(got) = whole.unwrap().body else { panic!() };
            prop_assert_eq!(got.stub, resp.stub);
        }
    }
}
