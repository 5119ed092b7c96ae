; umbra-args: -bios {bin} -no-reboot
; Address spaces (SDM vol. 3A, 4.10.4.1): eight page directories map the
; same linear pages to different frames.  They are switched round-robin by
; MOV CR3 many times, and each visit checks that it sees its own data and
; bumps a counter in one of its pages.  Then a page table of an address
; space that is not current is edited: switching to that space must use
; the edited entry (MOV CR3 invalidates every non-global translation).
%include "lib.inc"
%include "pm_lib.inc"
%include "mmu_lib.inc"

NSPACES equ 8
NPAGES  equ 16
ROUNDS  equ 2000            ; visits of each space
PD_BASE equ 0x300000        ; page directory of space k: PD_BASE + k * 0x1000
PT_BASE equ 0x310000        ; its page table for 4-8 MiB: PT_BASE + k * 0x1000
FRAMES  equ 0x400000        ; frame of space k, page j: FRAMES + (k*NPAGES+j) * 0x1000
SPARE   equ 0x380000        ; a frame inside the identity-mapped 4 MiB
VA      equ 0x400000        ; where every space maps its pages

mismatches equ scratch + 0
sum        equ scratch + 4

; cr3_of k (register): eax = page directory of space k
%macro CR3_OF 1
    mov eax, %1
    shl eax, 12
    add eax, PD_BASE
%endmacro

main:
    PRINT "mmu_spaces", 10
    call mmu_init
    xor ebp, ebp
.build:
    CR3_OF ebp
    mov edi, eax
    call new_pd
    mov edx, ebp
    shl edx, 12
    add edx, PT_BASE
    lea eax, [edx + PTE_P + PTE_RW + PTE_US]
    mov [edi + 4], eax               ; PDE 1 -> this space's table
    mov edi, edx
    call zero_page
    mov eax, ebp
    imul eax, NPAGES * 0x1000
    add eax, FRAMES + PTE_P + PTE_RW + PTE_US
    mov ecx, NPAGES
    call fill_pt
    inc ebp
    cmp ebp, NSPACES
    jb .build

    ; Seed each space through its own mapping: page j holds (k << 16) | j
    ; and a visit counter.
    CR3_OF 0
    call paging_on
    xor ebp, ebp
.seed:
    CR3_OF ebp
    mov cr3, eax
    xor ecx, ecx
.seed_page:
    mov edi, ecx
    shl edi, 12
    mov eax, ebp
    shl eax, 16
    or eax, ecx
    mov [VA + edi], eax
    mov dword [VA + edi + 4], 0
    inc ecx
    cmp ecx, NPAGES
    jb .seed_page
    inc ebp
    cmp ebp, NSPACES
    jb .seed

    ; Round-robin: ROUNDS visits of every space.
    xor esi, esi                     ; round
.round:
    xor ebp, ebp
.visit:
    CR3_OF ebp
    mov cr3, eax
    xor ecx, ecx
.check:
    mov edi, ecx
    shl edi, 12
    mov eax, ebp
    shl eax, 16
    or eax, ecx
    cmp [VA + edi], eax
    je .same
    inc dword [mismatches]
.same:
    inc ecx
    cmp ecx, NPAGES
    jb .check
    mov edi, esi
    and edi, NPAGES - 1
    shl edi, 12
    inc dword [VA + edi + 4]
    inc ebp
    cmp ebp, NSPACES
    jb .visit
    inc esi
    cmp esi, ROUNDS
    jb .round
    CHECK_EQ "mismatches", [mismatches], 0

    ; Every space counted its own visits.
    xor ebp, ebp
.count:
    CR3_OF ebp
    mov cr3, eax
    mov dword [sum], 0
    xor ecx, ecx
.add:
    mov edi, ecx
    shl edi, 12
    mov eax, [VA + edi + 4]
    add [sum], eax
    inc ecx
    cmp ecx, NPAGES
    jb .add
    PRINT "space "
    PHEX ebp, 1
    PRINT " "
    CHECK_EQ "visits", [sum], ROUNDS
    inc ebp
    cmp ebp, NSPACES
    jb .count

    ; From space 5, point page 0 of space 3 at SPARE; then switch to 3.
    mov dword [SPARE], 0x5a5a0003
    CR3_OF 5
    mov cr3, eax
    CHECK_EQ "space 5 page 0", [VA], 0x00050000
    mov dword [PT_BASE + 3 * 0x1000], SPARE | PTE_P | PTE_RW | PTE_US
    CR3_OF 3
    mov cr3, eax
    CHECK_EQ "space 3 remapped", [VA], 0x5a5a0003
    CHECK_EQ "space 3 page 1", [VA + 0x1000], 0x00030001
    ; Back to its own frame, from inside the space, by a CR3 reload.
    mov dword [PT_BASE + 3 * 0x1000], (FRAMES + 3 * NPAGES * 0x1000) | PTE_P | PTE_RW | PTE_US
    mov eax, cr3
    mov cr3, eax
    CHECK_EQ "space 3 restored", [VA], 0x00030000
    ; The previous space still sees its own data.
    CR3_OF 5
    mov cr3, eax
    CHECK_EQ "space 5 again", [VA + 0x2000], 0x00050002

    call paging_off
    jmp finish

    ROM_END
