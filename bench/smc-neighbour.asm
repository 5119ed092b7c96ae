; smc-neighbour: the cost of storing next to code.  A 64 KiB firmware image:
; the reset stub (roms/boot32.inc) enters 32-bit protected mode, the guest
; copies a small hot loop to RAM at CODE (page aligned, so the loop's first
; bytes start a 64-byte line) and calls it.  The loop runs ITERS times and
; stores its counter to a variable placed, by NEIGHBOUR:
;   NEIGHBOUR=0  in another page (the baseline),
;   NEIGHBOUR=1  in the loop's own page, 2 KiB away (another 64-byte line),
;   NEIGHBOUR=2  in the loop's own 64-byte line, just after the code.
; No store ever writes an instruction byte, so the code never changes; an
; emulator that tracks writes to code by page, or by line, sees every
; iteration as a possible self-modification.  The guest then checks the
; variable holds the last value stored (1) and the loop's first byte is
; intact, and leaves through port 0xF4 with 0 (or 1 if not).
;
; The retired instruction count is exact by construction:
;   BOOT32_INSNS + PRE_INSNS + ITERS * LOOP_INSNS + POST_INSNS
; insns: BOOT=12 PRE=8 LOOP=5 POST=7

    bits 16
    org 0

%ifndef ITERS
%define ITERS 1000000
%endif
%ifndef NEIGHBOUR
%define NEIGHBOUR 0
%endif

CODE    equ 0x10000                  ; RAM copy of the hot loop, page aligned
%if NEIGHBOUR == 0
VAR     equ CODE + 0x2000            ; two pages on
%elif NEIGHBOUR == 1
VAR     equ CODE + 0x800             ; same page, line 32
%elif NEIGHBOUR == 2
VAR     equ CODE + 0x30              ; same line as the loop
%else
%error "NEIGHBOUR must be 0, 1 or 2"
%endif

%include "boot32.inc"

    bits 32
main32:
    cld                                      ; PRE 1
    mov esi, ROM_BASE + hot                  ; PRE 2
    mov edi, CODE                            ; PRE 3
    mov ecx, hot_end - hot                   ; PRE 4
    rep movsb                                ; PRE 5 (one instruction)
    mov ecx, ITERS                           ; PRE 6
    mov eax, CODE                            ; PRE 7
    call eax                                 ; PRE 8
    cmp dword [VAR], 1                       ; POST 2
    jne .bad                                 ; POST 3
    cmp byte [CODE], 0x01                    ; POST 4: add eax, ecx intact
    jne .bad                                 ; POST 5
    mov al, 0                                ; POST 6
    out 0xf4, al                             ; POST 7: ends the run
    hlt
.bad:
    mov al, 1
    out 0xf4, al
    hlt

; The hot loop, copied to CODE; position independent apart from VAR.
hot:
    add eax, ecx                     ; 1
    xor ebx, eax                     ; 2
    mov [VAR], ecx                   ; 3  the store next to code
    dec ecx                          ; 4
    jnz hot                          ; 5
    ret                              ; POST 1
hot_end:
%if hot_end - hot > 0x30
%error "the hot loop must end before VAR in its 64-byte line"
%endif

BOOT32_RESET_VECTOR
