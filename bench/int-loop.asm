; int-loop: an integer workload for the interpreter benchmark.  A 64 KiB
; firmware image: the reset stub (roms/boot32.inc) enters 32-bit protected
; mode, then a loop of ALU operations, a store and a load, a call and a
; two-way branch runs ITERS times and the guest exits through port 0xF4.
;
; The retired instruction count is exact by construction:
;   BOOT32_INSNS + PRE_INSNS + ITERS * LOOP_INSNS + POST_INSNS
; with both branch arms of equal length.  bench/run reads the constants
; from the "; insns:" line below.
; insns: BOOT=12 PRE=4 LOOP=16 POST=2

    bits 16
    org 0

%ifndef ITERS
%define ITERS 8000000
%endif

ARRAY equ 0x20000

%include "boot32.inc"

    bits 32
main32:
    mov ecx, ITERS                ; PRE 1
    mov esi, ARRAY                ; PRE 2
    xor eax, eax                  ; PRE 3
    mov ebx, 1                    ; PRE 4
.loop:
    add eax, ebx                  ; 1
    mov edx, eax                  ; 2
    xor edx, ecx                  ; 3
    and edx, 0xffc                ; 4
    mov [esi + edx], eax          ; 5  store
    add ebx, [esi + edx]          ; 6  load
    call mix                      ; 7  (+3 in mix: 8, 9, 10)
    cmp edx, 0x800                ; 11
    jb .low                       ; 12
    or eax, edi                   ; 13
    jmp .join                     ; 14
.low:
    xor eax, edi                  ; 13
    nop                           ; 14
.join:
    dec ecx                       ; 15
    jnz .loop                     ; 16
    mov al, 0                     ; POST 1
    out 0xf4, al                  ; POST 2: ends the run
    hlt

mix:
    lea edi, [eax + ebx * 2]
    sub edi, ecx
    ret

BOOT32_RESET_VECTOR
