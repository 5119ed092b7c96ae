; cr-toggle: the cost of control-register writes that change how pages are
; translated.  A 64 KiB firmware image: the reset stub (roms/boot32.inc)
; enters 32-bit protected mode; the guest identity-maps the first 4 MiB
; with global 4 KiB pages, sets CR4.PGE, turns paging on (CR0.PG, CR0.WP)
; and then ITERS times turns one bit off and on again, two MOVs to the
; control register per pair:
;   TOGGLE=0  CR4.PGE (SDM vol. 3A 4.10.4.1: flushes every TLB entry,
;             global ones included),
;   TOGGLE=1  CR0.WP (changes how supervisor writes to read-only pages
;             are checked).
; Then it checks that paging, PGE and WP are still on and a store through
; the page tables lands, and leaves through port 0xF4 with 0 (or 1).
;
; The retired instruction count is exact by construction:
;   BOOT32_INSNS + PRE_INSNS + FILL_INSNS (1024 x 3) + SETUP_INSNS
;   + ITERS * LOOP_INSNS + POST_INSNS
; insns: BOOT=12 PRE=5 FILL=3072 SETUP=13 LOOP=4 POST=12

    bits 16
    org 0

%ifndef ITERS
%define ITERS 1000000
%endif
%ifndef TOGGLE
%define TOGGLE 0
%endif

PD      equ 0x100000
PT      equ 0x101000
PROBE   equ 0x20000
CR0_WP  equ 1 << 16
CR0_PG  equ 1 << 31
CR4_PGE equ 1 << 7
PTE_P   equ 1 << 0
PTE_RW  equ 1 << 1
PTE_G   equ 1 << 8

%include "boot32.inc"

    bits 32
main32:
    cld                                      ; PRE 1
    mov dword [PD], PT | PTE_RW | PTE_P      ; PRE 2: PDE 0, the rest unused
    mov edi, PT                              ; PRE 3
    mov eax, PTE_G | PTE_RW | PTE_P          ; PRE 4
    mov ecx, 1024                            ; PRE 5
.fill:
    stosd                                    ; FILL 1
    add eax, 0x1000                          ; FILL 2
    loop .fill                               ; FILL 3
    mov eax, PD                              ; SETUP 1
    mov cr3, eax                             ; SETUP 2
    mov eax, cr4                             ; SETUP 3
    or eax, CR4_PGE                          ; SETUP 4
    mov cr4, eax                             ; SETUP 5
    mov eax, cr0                             ; SETUP 6
    or eax, CR0_PG | CR0_WP                  ; SETUP 7
    mov cr0, eax                             ; SETUP 8
%if TOGGLE == 0
    mov eax, cr4                             ; SETUP 9
    mov ebx, eax                             ; SETUP 10
    and ebx, ~CR4_PGE                        ; SETUP 11
    mov ecx, ITERS                           ; SETUP 12
    jmp .pge                                 ; SETUP 13
    align 16
.pge:
    mov cr4, ebx                             ; LOOP 1: PGE off
    mov cr4, eax                             ; LOOP 2: PGE on
    dec ecx                                  ; LOOP 3
    jnz .pge                                 ; LOOP 4
%elif TOGGLE == 1
    mov eax, cr0                             ; SETUP 9
    mov ebx, eax                             ; SETUP 10
    and ebx, ~CR0_WP                         ; SETUP 11
    mov ecx, ITERS                           ; SETUP 12
    jmp .wp                                  ; SETUP 13
    align 16
.wp:
    mov cr0, ebx                             ; LOOP 1: WP off
    mov cr0, eax                             ; LOOP 2: WP on
    dec ecx                                  ; LOOP 3
    jnz .wp                                  ; LOOP 4
%else
%error "TOGGLE must be 0 (CR4.PGE) or 1 (CR0.WP)"
%endif
    mov eax, cr4                             ; POST 1
    test eax, CR4_PGE                        ; POST 2
    jz .bad                                  ; POST 3
    mov eax, cr0                             ; POST 4
    and eax, CR0_PG | CR0_WP                 ; POST 5
    cmp eax, CR0_PG | CR0_WP                 ; POST 6
    jne .bad                                 ; POST 7
    mov dword [PROBE], ITERS                 ; POST 8
    cmp dword [PROBE], ITERS                 ; POST 9
    jne .bad                                 ; POST 10
    mov al, 0                                ; POST 11
    out 0xf4, al                             ; POST 12: ends the run
    hlt
.bad:
    mov al, 1
    out 0xf4, al
    hlt

BOOT32_RESET_VECTOR
