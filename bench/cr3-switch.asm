; cr3-switch: address-space switching for the virtual-MMU benchmark.  A
; 64 KiB firmware image: the reset stub (roms/boot32.inc) enters 32-bit
; protected mode; the guest builds NSPACES page directories that map the
; same NPAGES linear pages (from 4 MiB up) onto frames of their own, turns
; paging on and visits the spaces round-robin ROUNDS times: MOV CR3, then
; one read-modify-write in each of the NPAGES pages.  Then it checks that
; each page was written ROUNDS times and leaves through port 0xF4 with 0
; (or 1 if a count is wrong).
;
; Every switch is NSPACES-periodic, so a shadow MMU that keeps NSPACES
; contexts walks the guest tables only on the first round; one that
; flushes on MOV CR3 walks NPAGES times per switch.
;
; Memory: identity table 0x100000 (first 4 MiB, code and stack), page
; directories 0x200000 + k * 0x1000, page tables 0x300000 + k * 0x1000,
; frames from 16 MiB: NSPACES <= 256, NPAGES <= 1024 and
; NSPACES * NPAGES * 4 KiB must fit in RAM above 16 MiB.

    bits 16
    org 0

%ifndef NSPACES
%define NSPACES 16
%endif
%ifndef NPAGES
%define NPAGES 64
%endif
%ifndef ROUNDS
%define ROUNDS 2000
%endif

ID_PT   equ 0x100000
PD_BASE equ 0x200000
PT_BASE equ 0x300000
FRAMES  equ 0x1000000
VA      equ 0x400000
URW     equ 7

%include "boot32.inc"

    bits 32
main32:
    cld
    ; identity map of the first 4 MiB
    mov edi, ID_PT
    mov eax, URW
    mov ecx, 1024
.id:
    stosd
    add eax, 0x1000
    loop .id
    ; space k: PD_BASE + k*4K with PDE 0 -> ID_PT, PDE 1 -> its table
    xor ebp, ebp
.space:
    mov edi, ebp
    shl edi, 12
    lea ebx, [edi + PT_BASE]             ; its table
    add edi, PD_BASE
    xor eax, eax
    mov ecx, 1024
    rep stosd
    sub edi, 0x1000
    mov dword [edi], ID_PT | URW
    lea eax, [ebx + URW]
    mov [edi + 4], eax
    mov edi, ebx
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov edi, ebx
    mov eax, ebp
    imul eax, NPAGES * 0x1000
    add eax, FRAMES + URW
    mov ecx, NPAGES
.pte:
    stosd
    add eax, 0x1000
    loop .pte
    inc ebp
    cmp ebp, NSPACES
    jb .space
    ; zero the frames
    mov edi, FRAMES
    xor eax, eax
    mov ecx, NSPACES * NPAGES * 1024
    rep stosd
    mov eax, PD_BASE
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax

    ; the measured loop
    mov esi, ROUNDS
.round:
    mov edx, PD_BASE
.visit:
    mov cr3, edx
    mov edi, VA
    mov ecx, NPAGES
.touch:
    add dword [edi], 1
    add edi, 0x1000
    dec ecx
    jnz .touch
    add edx, 0x1000
    cmp edx, PD_BASE + NSPACES * 0x1000
    jb .visit
    dec esi
    jnz .round

    ; every page of every space was written ROUNDS times
    mov edx, PD_BASE
.check_space:
    mov cr3, edx
    mov edi, VA
    mov ecx, NPAGES
.check:
    cmp dword [edi], ROUNDS
    jne .bad
    add edi, 0x1000
    loop .check
    add edx, 0x1000
    cmp edx, PD_BASE + NSPACES * 0x1000
    jb .check_space
    mov al, 0
    out 0xf4, al
    hlt
.bad:
    mov al, 1
    out 0xf4, al
    hlt

BOOT32_RESET_VECTOR
