; umbra-args: -bios {bin} -no-reboot
; Global pages (SDM vol. 3A, 4.10.2.4 and 4.10.4.1).  Only what the SDM
; guarantees is asserted: a MOV to CR3 invalidates every non-global
; translation; toggling CR4.PGE, or CR0.PG, invalidates all of them,
; global ones included; INVLPG invalidates a global page too.  Where a
; stale global translation may or may not be used, the line printed is
; the same either way.  Both 4 KiB and 4 MiB (CR4.PSE) global pages.
%include "lib.inc"
%include "pm_lib.inc"
%include "mmu_lib.inc"

PD_A equ 0x300000
PD_B equ 0x301000
PT_A equ 0x302000
PT_B equ 0x303000
F1   equ 0x381000
F2   equ 0x382000
F3   equ 0x383000
F4   equ 0x384000
BIG_A equ 0x800000          ; 4 MiB frames (above the identity map)
BIG_B equ 0xc00000
G    equ 0x400000           ; global page
N    equ 0x401000           ; ordinary page
L    equ 0x800000           ; 4 MiB global page (PDE 2)
URW  equ PTE_P | PTE_RW | PTE_US


main:
    PRINT "mmu_global", 10
    call mmu_init
    mov dword [F1], 0x11
    mov dword [F2], 0x22
    mov dword [F3], 0x33
    mov dword [F4], 0x44
    mov dword [BIG_A], 0xa4
    mov dword [BIG_B], 0xb4
    mov edi, PD_A
    call new_pd
    mov edi, PD_B
    call new_pd
    mov edi, PT_A
    call zero_page
    mov edi, PT_B
    call zero_page
    mov dword [PD_A + 4], PT_A | URW
    mov dword [PD_B + 4], PT_B | URW
    mov dword [PD_A + 8], BIG_A | PTE_PS | PTE_G | URW
    mov dword [PD_B + 8], BIG_B | PTE_PS | PTE_G | URW
    mov dword [PT_A], F1 | PTE_G | URW
    mov dword [PT_A + 4], F3 | URW
    mov dword [PT_B], F1 | PTE_G | URW
    mov dword [PT_B + 4], F3 | URW
    mov eax, cr4
    or eax, CR4_PGE | CR4_PSE
    mov cr4, eax
    mov eax, PD_A
    call paging_on

    CHECK_EQ "A: g", [G], 0x11
    CHECK_EQ "A: n", [N], 0x33
    CHECK_EQ "A: 4m", [L], 0xa4
    ; edit both entries in memory, then MOV CR3 (same value)
    mov dword [PT_A], F2 | PTE_G | URW
    mov dword [PT_A + 4], F4 | URW
    mov eax, PD_A
    mov cr3, eax
    CHECK_EQ "A reloaded: n", [N], 0x44
    OLD_OR_NEW "A reloaded: g", [G], 0x11, 0x22
    ; the other space maps G to F1; the global translation may stay
    mov eax, PD_B
    mov cr3, eax
    CHECK_EQ "B: n", [N], 0x33
    OLD_OR_NEW "B: g", [G], 0x11, 0x22
    OLD_OR_NEW "B: 4m", [L], 0xa4, 0xb4
    ; clearing CR4.PGE invalidates everything
    mov eax, cr4
    and eax, ~CR4_PGE
    mov cr4, eax
    CHECK_EQ "B, pge off: g", [G], 0x11
    CHECK_EQ "B, pge off: 4m", [L], 0xb4
    ; without PGE the G bit means nothing: MOV CR3 invalidates G too
    mov eax, PD_A
    mov cr3, eax
    CHECK_EQ "A, pge off: g", [G], 0x22
    CHECK_EQ "A, pge off: 4m", [L], 0xa4
    ; PGE on again: A's global translation may survive a switch to B,
    ; INVLPG removes it
    mov eax, cr4
    or eax, CR4_PGE
    mov cr4, eax
    CHECK_EQ "A, pge on: g", [G], 0x22
    mov eax, PD_B
    mov cr3, eax
    OLD_OR_NEW "B, pge on: g", [G], 0x22, 0x11
    invlpg [G]
    CHECK_EQ "B, invlpg: g", [G], 0x11
    OLD_OR_NEW "B, pge on: 4m", [L], 0xa4, 0xb4
    invlpg [L + 0x123000]            ; any address inside the 4 MiB page
    CHECK_EQ "B, invlpg: 4m", [L], 0xb4
    ; turning paging off and on invalidates global translations too
    mov eax, PD_A
    mov cr3, eax
    mov eax, [G]
    mov dword [PT_A], F3 | PTE_G | URW
    mov eax, cr0
    and eax, ~CR0_PG
    mov cr0, eax
    or eax, CR0_PG
    mov cr0, eax
    CHECK_EQ "A, pg toggled: g", [G], 0x33
    ; a global page edited and invalidated from another space is seen
    ; everywhere after INVLPG
    mov eax, PD_B
    mov cr3, eax
    mov eax, [G]
    mov dword [PT_B], F4 | PTE_G | URW
    invlpg [G]
    CHECK_EQ "B edited: g", [G], 0x44

    call paging_off
    jmp finish

    ROM_END
