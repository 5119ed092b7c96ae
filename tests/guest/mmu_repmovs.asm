; umbra-args: -bios {bin} -no-reboot
; Page tables written by string instructions: a block of PTEs copied with
; REP MOVSD (then MOV CR3), a shuffled block copied over live entries
; (then INVLPG of each page), REP MOVSB copying entries byte by byte, and
; REP STOSD clearing them.  The CPU commits a string instruction one
; element at a time, so every element is a separate page-table store.
%include "lib.inc"
%include "pm_lib.inc"
%include "mmu_lib.inc"

PD     equ 0x300000
PT3    equ 0x301000         ; 12-16 MiB
TMPL   equ 0x302000         ; templates of PTEs
FRAMES equ 0x380000         ; 16 frames, frame j holds 0xf00d0000 + j
NP     equ 16
VA     equ 0xc00000
URW    equ PTE_P | PTE_RW | PTE_US

nbad   equ scratch + 0

main:
    PRINT "mmu_repmovs", 10
    call mmu_init
    xor ecx, ecx
.seed:
    mov eax, ecx
    shl eax, 12
    lea edi, [FRAMES + eax]
    lea eax, [ecx + 0xf00d0000]
    mov [edi], eax
    inc ecx
    cmp ecx, NP
    jb .seed
    ; TMPL: identity order; TMPL + 0x100: reversed order
    xor ecx, ecx
.tmpl:
    mov eax, ecx
    shl eax, 12
    add eax, FRAMES | URW
    mov [TMPL + ecx * 4], eax
    mov edx, NP - 1
    sub edx, ecx
    mov [TMPL + 0x100 + edx * 4], eax
    inc ecx
    cmp ecx, NP
    jb .tmpl
    mov edi, PD
    call new_pd
    mov dword [PD + 3 * 4], PT3 | URW
    mov edi, PT3
    call zero_page
    mov eax, PD
    call paging_on

    ; unmapped at first
    TRY .np_r
.np_f:
    mov eax, [VA]
.np_r:
    CHECK_EXC "before", 14, 0, .np_f
    TRY 0
    ; REP MOVSD the block in, MOV CR3
    mov esi, TMPL
    mov edi, PT3
    mov ecx, NP
    rep movsd
    mov eax, cr3
    mov cr3, eax
    mov edx, 0                       ; expected frame of page j: j
    call check_pages
    CHECK_EQ "movsd in", [nbad], 0
    ; the reversed block over the live entries, INVLPG each page
    mov esi, TMPL + 0x100
    mov edi, PT3
    mov ecx, NP
    rep movsd
    xor ecx, ecx
.inv:
    mov eax, ecx
    shl eax, 12
    invlpg [VA + eax]
    inc ecx
    cmp ecx, NP
    jb .inv
    mov edx, 1                       ; expected frame of page j: NP-1-j
    call check_pages
    CHECK_EQ "movsd over", [nbad], 0
    ; REP MOVSB, backwards (STD), the identity block again; MOV CR3
    std
    mov esi, TMPL + NP * 4 - 1
    mov edi, PT3 + NP * 4 - 1
    mov ecx, NP * 4
    rep movsb
    cld
    mov eax, cr3
    mov cr3, eax
    mov edx, 0
    call check_pages
    CHECK_EQ "movsb back", [nbad], 0
    ; a block copied from one table slot range to another within the
    ; table (REP MOVSD with source and destination in the same page):
    ; pages 8..15 now map frames 0..7
    mov esi, PT3
    mov edi, PT3 + 8 * 4
    mov ecx, 8
    rep movsd
    mov eax, cr3
    mov cr3, eax
    CHECK_EQ "page 8", [VA + 8 * 0x1000], 0xf00d0000
    CHECK_EQ "page 15", [VA + 15 * 0x1000], 0xf00d0007
    ; REP STOSD clears the entries: every page faults
    mov edi, PT3
    xor eax, eax
    mov ecx, NP
    rep stosd
    mov eax, cr3
    mov cr3, eax
    TRY .z_r
.z_f:
    mov eax, [VA + 5 * 0x1000]
.z_r:
    CHECK_EXC "stosd cleared", 14, 0, .z_f
    CHECK_EQ "cr2", [got_cr2], VA + 5 * 0x1000

    call paging_off
    jmp finish

; check_pages: edx = 0 for identity order, 1 for reversed; counts pages
; whose first dword is not the expected frame's tag in [nbad].
check_pages:
    pushad
    mov dword [nbad], 0
    xor ecx, ecx
.l: mov eax, ecx
    test edx, edx
    jz .fwd
    mov eax, NP - 1
    sub eax, ecx
.fwd:
    add eax, 0xf00d0000
    mov ebx, ecx
    shl ebx, 12
    cmp [VA + ebx], eax
    je .ok
    inc dword [nbad]
.ok:
    inc ecx
    cmp ecx, NP
    jb .l
    popad
    ret

    ROM_END
