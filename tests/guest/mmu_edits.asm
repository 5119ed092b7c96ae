; umbra-args: -bios {bin} -no-reboot
; Page-table edits and the instructions that make them visible (SDM vol.
; 3A, 4.10.4): after INVLPG of the page, or a MOV CR3, the edited entry
; must be used; INVLPG takes the linear address (segment base + offset)
; and also drops what was cached from a page-directory entry; an entry
; changed from not present to present needs no invalidation (4.10.4.3).
; Without an invalidation either translation may be used: those reads
; print the same line whichever they see.
%include "lib.inc"
%include "pm_lib.inc"
%include "mmu_lib.inc"

PD   equ 0x300000
PT1  equ 0x301000           ; 4-8 MiB
PT1B equ 0x302000           ; a second table for the same range
FA   equ 0x380000           ; frames inside the identity-mapped 4 MiB
FB   equ 0x381000
FC   equ 0x382000
X    equ 0x400000
URW  equ PTE_P | PTE_RW | PTE_US

main:
    PRINT "mmu_edits", 10
    call mmu_init
    mov dword [FA], 0xaaaa0001
    mov dword [FB], 0xbbbb0002
    mov dword [FC], 0xcccc0003
    mov edi, PD
    call new_pd
    mov dword [PD + 4], PT1 | URW
    mov edi, PT1
    call zero_page
    mov edi, PT1B
    call zero_page
    mov dword [PT1], FA | URW
    ; FS: flat data with base 1 MiB, for INVLPG through a segment
    mov edi, GDT_BASE + 0x48
    mov eax, 0x100000
    mov ebx, 0xfff00
    mov ecx, 0x00c09200
    call make_desc
    mov eax, PD
    call paging_on
    CHECK_EQ "first", [X], 0xaaaa0001

    ; new frame + INVLPG
    mov dword [PT1], FB | URW
    invlpg [X]
    CHECK_EQ "invlpg", [X], 0xbbbb0002
    ; new frame + MOV CR3 with the same value
    mov dword [PT1], FA | URW
    mov eax, cr3
    mov cr3, eax
    CHECK_EQ "cr3 reload", [X], 0xaaaa0001
    ; no invalidation: old or new
    mov dword [PT1], FB | URW
    OLD_OR_NEW "no flush", [X], 0xaaaa0001, 0xbbbb0002
    invlpg [X]
    CHECK_EQ "then invlpg", [X], 0xbbbb0002

    ; INVLPG [fs:X - 1 MiB] invalidates linear X
    mov ax, 0x48
    mov fs, ax
    mov eax, [X]
    mov dword [PT1], FC | URW
    invlpg [fs:X - 0x100000]
    CHECK_EQ "invlpg fs:", [X], 0xcccc0003
    mov ax, 0x10
    mov fs, ax

    ; a read-modify-write of the entry (XCHG, then OR) + INVLPG
    mov eax, FB | URW
    xchg [PT1], eax
    invlpg [X]
    CHECK_EQ "xchg pte", [X], 0xbbbb0002
    CHECK_EQ "xchg old", eax, FC | URW | PTE_A
    and dword [PT1], ~PTE_P
    invlpg [X]
    TRY .np_r
.np_f:
    mov eax, [X]
.np_r:
    CHECK_EXC "and ~P", 14, 0, .np_f
    or dword [PT1], PTE_P
    TRY 0
    mov eax, [X]
    CHECK_EQ "or P", eax, 0xbbbb0002
    ; a 16-bit write to the entry's low half (flags and frame bits 15:12)
    mov word [PT1], (FA & 0xffff) | URW
    invlpg [X]
    CHECK_EQ "word write", [X], 0xaaaa0001

    ; the directory entry: PDE 1 -> PT1B, then INVLPG
    mov dword [PT1B], FC | URW
    mov eax, [X]
    mov dword [PD + 4], PT1B | URW
    invlpg [X]
    CHECK_EQ "pde invlpg", [X], 0xcccc0003
    mov dword [PD + 4], PT1 | URW
    mov eax, cr3
    mov cr3, eax
    CHECK_EQ "pde cr3", [X], 0xaaaa0001

    ; not present -> present needs no invalidation
    TRY .p0_r
.p0_f:
    mov eax, [X + 0x1000]
.p0_r:
    CHECK_EXC "not present", 14, 0, .p0_f
    mov dword [PT1 + 4], FB | URW
    TRY .p1_r
    mov eax, 0
    mov eax, [X + 0x1000]
.p1_r:
    CHECK_EQ "present, no flush", [got_vec], 0xff
    CHECK_EQ "present value", eax, 0xbbbb0002
    ; present -> not present, INVLPG: faults again
    mov dword [PT1 + 4], 0
    invlpg [X + 0x1000]
    TRY .p2_r
.p2_f:
    mov eax, [X + 0x1000]
.p2_r:
    CHECK_EXC "removed", 14, 0, .p2_f
    CHECK_EQ "cr2", [got_cr2], X + 0x1000

    ; read-only -> writable (CR0.WP): without invalidation the write may
    ; fault once; after INVLPG it must not
    mov eax, cr0
    or eax, CR0_WP
    mov cr0, eax
    mov dword [PT1 + 8], FC | PTE_P | PTE_US
    TRY .ro_r
.ro_f:
    mov dword [X + 0x2000], 0x12345678
.ro_r:
    CHECK_EXC "read-only", 14, 3, .ro_f
    or dword [PT1 + 8], PTE_RW
    TRY .rw_r
    mov dword [X + 0x2004], 0x12345678
.rw_r:
    OLD_OR_NEW "rw, no flush", [got_vec], 0x0e, 0xff
    invlpg [X + 0x2000]
    TRY .rw2_r
    mov dword [X + 0x2000], 0x9abcdef0
.rw2_r:
    CHECK_EQ "rw, invlpg", [got_vec], 0xff
    CHECK_EQ "written", [FC], 0x9abcdef0
    mov eax, cr0
    and eax, ~CR0_WP
    mov cr0, eax

    call paging_off
    jmp finish

    ROM_END
