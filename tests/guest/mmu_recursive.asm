; umbra-args: -bios {bin} -no-reboot
; A recursive page directory (PDE 1023 -> the directory itself), the way
; many kernels reach their own tables: the directory appears at
; 0xFFFFF000 and page table i at 0xFFC00000 + i * 0x1000.  Tables are
; created and edited only through that window, then used after INVLPG.
; Every store through the window is a store to a live paging structure.
%include "lib.inc"
%include "pm_lib.inc"
%include "mmu_lib.inc"

PD    equ 0x300000
NEWPT equ 0x301000
F0    equ 0x380000          ; frames inside the identity-mapped 4 MiB
F1    equ 0x381000
F2    equ 0x382000
SELF  equ 0xfffff000        ; the directory, through itself
TABLES equ 0xffc00000       ; page table i at TABLES + i * 0x1000
URW   equ PTE_P | PTE_RW | PTE_US
VA    equ 0x800000          ; PDE 2

main:
    PRINT "mmu_recursive", 10
    call mmu_init
    mov dword [F0], 0xf0f00000
    mov dword [F1], 0xf1f10001
    mov dword [F2], 0xf2f20002
    mov edi, PD
    call new_pd
    mov dword [PD + 1023 * 4], PD | PTE_P | PTE_RW
    mov edi, NEWPT
    mov eax, 0xdeadbeef              ; garbage: cleared through the window
    mov ecx, 1024
    rep stosd
    mov eax, PD
    call paging_on

    ; the directory reads itself
    mov eax, [SELF + 1023 * 4]
    and eax, ~(PTE_A | PTE_D)
    CHECK_EQ "pde 1023", eax, PD | PTE_P | PTE_RW
    mov eax, [SELF]
    and eax, ~PTE_A
    CHECK_EQ "pde 0", eax, ID_PT | URW
    ; page table 0 through the window: entry for 0x1000 is identity
    mov eax, [TABLES + 1 * 4]
    and eax, ~(PTE_A | PTE_D)
    CHECK_EQ "pte 1", eax, 0x1000 | URW

    ; install a new table through the window, clear it, fill it there
    mov dword [SELF + 2 * 4], NEWPT | URW
    invlpg [TABLES + 2 * 0x1000]
    mov edi, TABLES + 2 * 0x1000
    xor eax, eax
    mov ecx, 1024
    rep stosd
    CHECK_EQ "cleared", [NEWPT + 0xffc], 0
    mov dword [TABLES + 2 * 0x1000], F0 | URW
    mov dword [TABLES + 2 * 0x1000 + 4], F1 | URW
    invlpg [VA]
    invlpg [VA + 0x1000]
    CHECK_EQ "va page 0", [VA], 0xf0f00000
    CHECK_EQ "va page 1", [VA + 0x1000], 0xf1f10001
    ; accessed bits show in the window
    mov eax, [SELF + 2 * 4]
    and eax, PTE_A
    CHECK_EQ "pde 2 accessed", eax, PTE_A
    mov eax, [TABLES + 2 * 0x1000]
    and eax, PTE_A | PTE_D
    CHECK_EQ "pte accessed", eax, PTE_A

    ; retarget a used page through the window
    mov dword [TABLES + 2 * 0x1000], F2 | URW
    invlpg [VA]
    CHECK_EQ "retarget", [VA], 0xf2f20002
    ; writes to the data go to the new frame
    mov dword [VA + 4], 0x12345678
    CHECK_EQ "frame written", [F2 + 4], 0x12345678
    ; unmap through the window
    mov dword [TABLES + 2 * 0x1000 + 4], 0
    invlpg [VA + 0x1000]
    TRY .np_r
.np_f:
    mov eax, [VA + 0x1000]
.np_r:
    CHECK_EXC "unmapped", 14, 0, .np_f
    CHECK_EQ "cr2", [got_cr2], VA + 0x1000

    ; a second alias of the directory: PDE 1022 too, read-only
    mov dword [SELF + 1022 * 4], PD | PTE_P
    invlpg [0xff800000 + 1022 * 0x1000]
    mov eax, [0xff800000 + 1022 * 0x1000 + 2 * 4]
    and eax, ~(PTE_A | PTE_D)
    CHECK_EQ "second window", eax, NEWPT | URW
    ; the window for table 2 through PDE 1022 (0xFF802000) is the same table
    mov eax, [0xff800000 + 2 * 0x1000]
    CHECK_EQ "table via 1022", eax, [TABLES + 2 * 0x1000]

    ; drop the whole table through the window, reload CR3: faults
    mov dword [SELF + 2 * 4], 0
    mov eax, cr3
    mov cr3, eax
    TRY .pd_r
.pd_f:
    mov eax, [VA]
.pd_r:
    CHECK_EXC "pde cleared", 14, 0, .pd_f

    call paging_off
    jmp finish

    ROM_END
