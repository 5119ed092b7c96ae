; umbra-args: -bios {bin} -no-reboot
; Accessed and Dirty flags (SDM vol. 3A, 4.8): a read sets A in the PTE
; and the PDE, never D; a write sets D in the PTE (the PDE of a 4 KiB page
; has no D); an instruction fetch sets A; the D of a 4 MiB page is in its
; PDE.  Flags the guest cleared are set again on the next access after
; INVLPG; without INVLPG the processor may or may not set them again, and
; those lines print the same either way.  The same for PAE paging (PTE,
; PDE, 2 MiB pages).  String stores set D on every page they write.
%include "lib.inc"
%include "pm_lib.inc"
%include "mmu_lib.inc"

PD   equ 0x300000
PT1  equ 0x301000           ; 4-8 MiB
F0   equ 0x380000           ; 8 frames
X    equ 0x400000           ; X + j * 0x1000 -> F0 + j * 0x1000
BIG  equ 0x800000           ; 4 MiB page at PDE 2 (frame 8 MiB)
URW  equ PTE_P | PTE_RW | PTE_US
AD   equ PTE_A | PTE_D

; AD_OF name, entry address, expected A|D bits
%macro AD_OF 3
    mov eax, [%2]
    and eax, AD
    CHECK_EQ %1, eax, %3
%endmacro

main:
    PRINT "mmu_ad", 10
    call mmu_init
    mov edi, PD
    call new_pd
    mov dword [PD + 4], PT1 | URW
    mov dword [PD + 8], 0x800000 | PTE_PS | URW
    mov edi, PT1
    call zero_page
    mov edi, PT1
    mov eax, F0 | URW
    mov ecx, 8
    call fill_pt
    mov byte [F0 + 7 * 0x1000], 0xc3 ; ret, on page 7
    mov eax, cr4
    or eax, CR4_PSE
    mov cr4, eax
    mov eax, PD
    call paging_on

    ; ---- 32-bit paging, 4 KiB ----
    AD_OF "pde before", PD + 4, 0
    AD_OF "pte before", PT1, 0
    mov eax, [X]
    AD_OF "pde after read", PD + 4, PTE_A
    AD_OF "pte after read", PT1, PTE_A
    mov byte [X + 1], 1
    AD_OF "pte after write", PT1, AD
    AD_OF "pde after write", PD + 4, PTE_A
    ; a write as the first access sets both
    mov dword [X + 0x1000], 1
    AD_OF "write first", PT1 + 4, AD
    ; read-modify-write
    add dword [X + 0x2000], 1
    AD_OF "rmw", PT1 + 8, AD
    ; fetch
    mov eax, X + 7 * 0x1000
    call eax
    AD_OF "fetch", PT1 + 7 * 4, PTE_A
    ; cleared by the guest, then INVLPG: set again, D only on a write
    and dword [PT1], ~AD
    invlpg [X]
    mov eax, [X]
    AD_OF "read after clear", PT1, PTE_A
    mov dword [X + 8], 2
    AD_OF "write after clear", PT1, AD
    ; cleared without INVLPG: either outcome
    and dword [PT1], ~AD
    mov dword [X + 8], 3
    mov eax, [PT1]
    and eax, AD
    OLD_OR_NEW "no invlpg", eax, 0, AD
    ; clear only D (A stays), INVLPG, read: D stays clear; write sets it
    and dword [PT1], ~PTE_D
    invlpg [X]
    mov eax, [X]
    mov eax, [PT1]
    and eax, PTE_D
    CHECK_EQ "d stays clear", eax, 0
    mov byte [X + 9], 4
    AD_OF "d again", PT1, AD
    ; a read-only page (WP off) written by the supervisor gets D
    and dword [PT1 + 3 * 4], ~PTE_RW
    invlpg [X + 0x3000]
    mov dword [X + 0x3000], 5
    AD_OF "ro page write", PT1 + 3 * 4, AD
    ; REP STOSD over pages 4-6: D on each
    mov edi, X + 0x4000
    xor eax, eax
    mov ecx, 3 * 1024
    rep stosd
    AD_OF "stosd page 4", PT1 + 4 * 4, AD
    AD_OF "stosd page 6", PT1 + 6 * 4, AD
    ; REP MOVSD from page 0 to page 5 after clearing both: A on the
    ; source, A|D on the destination
    and dword [PT1], ~AD
    and dword [PT1 + 5 * 4], ~AD
    invlpg [X]
    invlpg [X + 0x5000]
    mov esi, X
    mov edi, X + 0x5000
    mov ecx, 4
    rep movsd
    AD_OF "movsd source", PT1, PTE_A
    AD_OF "movsd dest", PT1 + 5 * 4, AD
    ; at CPL 3
    and dword [PT1 + 1 * 4], ~AD
    invlpg [X + 0x1000]
    mov eax, user_read
    call ring3_call
    AD_OF "user read", PT1 + 4, PTE_A
    mov eax, user_write
    call ring3_call
    AD_OF "user write", PT1 + 4, AD

    ; ---- 4 MiB page: A and D in the PDE ----
    AD_OF "4m before", PD + 8, 0
    mov eax, [BIG + 0x123456]
    AD_OF "4m read", PD + 8, PTE_A
    mov [BIG + 0x3ffffc], eax
    AD_OF "4m write", PD + 8, AD
    and dword [PD + 8], ~AD
    invlpg [BIG]
    mov [BIG + 0x200000], eax
    AD_OF "4m write first", PD + 8, AD

    ; ---- PAE ----
    call paging_off
    call pae_build
    mov dword [PAE_PT1], F0 | URW
    mov dword [PAE_PT1 + 8], F0 | 0x1000 | URW
    mov dword [PAE_PD + 3 * 8], 0x600000 | PTE_PS | URW   ; 2 MiB page
    call pae_on
    AD_OF "pae pde before", PAE_PD + 2 * 8, 0
    mov eax, [0x400000]
    AD_OF "pae pte read", PAE_PT1, PTE_A
    AD_OF "pae pde read", PAE_PD + 2 * 8, PTE_A
    mov [0x400010], eax
    AD_OF "pae pte write", PAE_PT1, AD
    mov dword [0x401000], 1
    AD_OF "pae write first", PAE_PT1 + 8, AD
    mov eax, [PAE_PT1 + 4]
    CHECK_EQ "pae high dword", eax, 0
    mov eax, [0x600000]
    AD_OF "pae 2m read", PAE_PD + 3 * 8, PTE_A
    mov [0x7ffffc], eax
    AD_OF "pae 2m write", PAE_PD + 3 * 8, AD
    and dword [PAE_PT1], ~AD
    invlpg [0x400000]
    mov eax, [0x400000]
    AD_OF "pae read after clear", PAE_PT1, PTE_A
    ; the PDPTE has no A/D: it is left untouched
    mov eax, [PAE_PDPT]
    CHECK_EQ "pdpte", eax, PAE_PD | PTE_P

    call paging_off
    jmp finish

user_read:
    mov eax, [X + 0x1000]
    int R3_VEC
user_write:
    mov [X + 0x1004], eax
    int R3_VEC

    ROM_END
