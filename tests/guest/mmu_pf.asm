; umbra-args: -bios {bin} -no-reboot
; Page faults (SDM vol. 3A, 4.6 access rights, 4.7 error codes): CR2, the
; saved EIP and the error code for not-present pages, writes to read-only
; pages at CPL 3 and (with CR0.WP) at CPL 0, user accesses to supervisor
; pages (rights combine across PDE and PTE), user fetches, a write
; straddling into a missing page (nothing written); then PAE paging:
; reserved bits (RSVD), execute-disable with EFER.NXE (I/D), XD as a
; reserved bit without NXE, and PDPTE checks on MOV to CR0/CR3 and on a
; task switch (#GP(0)).
%include "lib.inc"
%include "pm_lib.inc"
%include "mmu_lib.inc"

PD   equ 0x300000
PT1  equ 0x301000           ; 4-8 MiB
PT2  equ 0x302000           ; 8-12 MiB, under a supervisor PDE
F1   equ 0x381000
F2   equ 0x382000
F3   equ 0x383000
X0   equ 0x400000           ; not present
X1   equ 0x401000           ; user, read-only
X2   equ 0x402000           ; supervisor, writable (holds code)
X3   equ 0x403000           ; user, writable; X3 + 0x1000 not present
XS   equ 0x800000           ; user PTE under a supervisor PDE
URW  equ PTE_P | PTE_RW | PTE_US

main:
    PRINT "mmu_pf", 10
    call mmu_init
    mov byte [F2], 0xc3              ; ret
    mov edi, PD
    call new_pd
    mov dword [PD + 4], PT1 | URW
    mov dword [PD + 8], PT2 | PTE_P | PTE_RW
    mov edi, PT1
    call zero_page
    mov edi, PT2
    call zero_page
    mov dword [PT1 + 1 * 4], F1 | PTE_P | PTE_US
    mov dword [PT1 + 2 * 4], F2 | PTE_P | PTE_RW
    mov dword [PT1 + 3 * 4], F3 | URW
    mov dword [PT2], F3 | URW
    mov eax, PD
    call paging_on

    ; ---- CPL 0 ----
    TRY .a_r
.a_f:
    mov eax, [X0 + 0x10]
.a_r:
    CHECK_EXC "read not present", 14, 0, .a_f
    CHECK_EQ "cr2", [got_cr2], X0 + 0x10
    TRY .b_r
.b_f:
    mov byte [X0 + 0xfff], 1
.b_r:
    CHECK_EXC "write not present", 14, 2, .b_f
    CHECK_EQ "cr2", [got_cr2], X0 + 0xfff
    TRY .c_r
    mov dword [X1], 0x11111111       ; WP = 0: supervisor may write
.c_r:
    CHECK_EQ "wp=0 write", [got_vec], 0xff
    mov eax, cr0
    or eax, CR0_WP
    mov cr0, eax
    TRY .d_r
.d_f:
    mov dword [X1 + 8], 0x22222222
.d_r:
    CHECK_EXC "wp=1 write", 14, 3, .d_f
    CHECK_EQ "cr2", [got_cr2], X1 + 8
    CHECK_EQ "not written", [F1 + 8], 0
    ; a dword straddling X3 and the missing page after it
    mov dword [X3 + 0xffc], 0x5555aaaa
    TRY .e_r
.e_f:
    mov dword [X3 + 0xffe], 0x12345678
.e_r:
    CHECK_EXC "straddle", 14, 2, .e_f
    mov eax, [got_cr2]
    and eax, ~0xfff
    CHECK_EQ "cr2 page", eax, X3 + 0x1000
    CHECK_EQ "no partial write", [X3 + 0xffc], 0x5555aaaa

    ; ---- CPL 3 ----
    mov eax, user_part
    call ring3_call

    ; ---- PAE ----
    call paging_off
    call pae_build
    ; PAE_PT1 maps 0x400000-0x5FFFFF: index 0 has a reserved bit (40),
    ; 1 has XD and holds `ret`, 2 holds `ret`, 3 is not present
    mov dword [PAE_PT1], F1 | URW
    mov dword [PAE_PT1 + 4], 1 << 8
    mov dword [PAE_PT1 + 8], F2 | URW
    mov dword [PAE_PT1 + 12], 0x80000000
    mov dword [PAE_PT1 + 16], F2 | URW
    ; PD[3] (0x600000) -> the same table, with XD in the PDE
    mov dword [PAE_PD + 3 * 8], PAE_PT1 | URW
    mov dword [PAE_PD + 3 * 8 + 4], 0x80000000
    ; PD[4] (0x800000): a 2 MiB page with reserved bit 13 set
    mov dword [PAE_PD + 4 * 8], 0x200000 | PTE_PS | URW | (1 << 13)
    mov eax, cr4
    or eax, CR4_PSE
    mov cr4, eax
    call pae_on
    CHECK_EQ "pae identity", [F2], 0xc3
    TRY .r1_r
.r1_f:
    mov eax, [0x400000]
.r1_r:
    CHECK_EXC "rsvd read", 14, 9, .r1_f
    CHECK_EQ "cr2", [got_cr2], 0x400000
    TRY .r2_r
.r2_f:
    mov dword [0x400004], 0
.r2_r:
    CHECK_EXC "rsvd write", 14, 0xb, .r2_f
    TRY .r3_r
.r3_f:
    mov eax, [0x401000]
.r3_r:
    CHECK_EXC "xd without nxe", 14, 9, .r3_f
    TRY .r4_r
.r4_f:
    mov eax, [0x800010]
.r4_r:
    CHECK_EXC "rsvd 2m page", 14, 9, .r4_f
    CHECK_EQ "cr2", [got_cr2], 0x800010
    ; EFER: reserved bits refused, NXE accepted
    TRY .m_r
    mov ecx, 0xc0000080
    mov eax, 1 << 8                  ; LME: no long mode here
    xor edx, edx
.m_f:
    wrmsr
.m_r:
    CHECK_EXC "efer.lme", 13, 0, .m_f
    TRY 0
    mov ecx, 0xc0000080
    mov eax, 1 << 11
    xor edx, edx
    wrmsr
    rdmsr
    CHECK_EQ "efer", eax, 1 << 11
    ; now XD is a right, not a reserved bit
    CHECK_EQ "xd page read", [0x401000], 0xc3
    TRY .x1_r
    mov eax, 0x402000
    call eax
.x1_r:
    CHECK_EQ "fetch ok", [got_vec], 0xff
    TRY .x2_r
    mov eax, 0x401000
    call eax
.x2_r:
    add esp, 4                       ; the call's return address
    CHECK_EXC "nx fetch", 14, 0x11, 0x401000
    CHECK_EQ "cr2", [got_cr2], 0x401000
    TRY .x3_r
    mov eax, 0x403000
    jmp eax
.x3_r:
    CHECK_EXC "fetch not present", 14, 0x10, 0x403000
    TRY .x4_r
    mov eax, 0x602000
    jmp eax
.x4_r:
    CHECK_EXC "xd in pde", 14, 0x11, 0x602000
    ; the same fetches at CPL 3 add U
    mov eax, user_nx
    call ring3_call
    mov ecx, 0xc0000080
    xor eax, eax
    xor edx, edx
    wrmsr

    ; PDPTE checks: a second PDPT (PAE_PDPT + 0x20) whose entry 1 sets
    ; reserved bit 1 (R/W): MOV CR3 faults and CR3 keeps its value
    mov dword [PAE_PDPT + 0x20], PAE_PD | PTE_P
    mov dword [PAE_PDPT + 0x28], PAE_PD | PTE_P | PTE_RW
    TRY .g1_r
    mov eax, PAE_PDPT + 0x20
.g1_f:
    mov cr3, eax
.g1_r:
    CHECK_EXC "mov cr3 bad pdpte", 13, 0, .g1_f
    mov eax, cr3
    CHECK_EQ "cr3 kept", eax, PAE_PDPT
    mov dword [PAE_PDPT + 0x28], 0
    TRY 0
    mov eax, PAE_PDPT + 0x20
    mov cr3, eax
    mov eax, cr3
    CHECK_EQ "cr3 loaded", eax, PAE_PDPT + 0x20
    ; the same bad entry in the PDPT that CR0.PG would load
    mov dword [PAE_PDPT + 8], PAE_PD | PTE_P | PTE_RW
    call paging_off
    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, PAE_PDPT
    mov cr3, eax                     ; paging off: not checked
    TRY .g2_r
    mov eax, cr0
    or eax, CR0_PG
.g2_f:
    mov cr0, eax
.g2_r:
    CHECK_EXC "mov cr0 bad pdpte", 13, 0, .g2_f
    mov eax, cr0
    shr eax, 31
    CHECK_EQ "cr0.pg", eax, 0
    ; a reserved bit above MAXPHYADDR (36)
    mov dword [PAE_PDPT + 8], PAE_PD | PTE_P
    mov dword [PAE_PDPT + 12], 0x10
    TRY .g3_r
    mov eax, cr0
    or eax, CR0_PG
.g3_f:
    mov cr0, eax
.g3_r:
    CHECK_EXC "pdpte bit 36", 13, 0, .g3_f
    mov dword [PAE_PDPT + 12], 0
    mov dword [PAE_PDPT + 8], 0
    TRY 0
    call pae_on
    CHECK_EQ "pae again", [got_vec], 0xff

    ; a task switch whose TSS names a PDPT with a bad entry: #GP(0),
    ; raised in the new task (its CR3 is loaded, as PDPTE 0, which maps
    ; all the code and data here, is valid)
    mov dword [PAE_PDPT + 0x20], PAE_PD | PTE_P
    mov dword [PAE_PDPT + 0x28], PAE_PD | PTE_P | PTE_RW
    mov edi, TSS1
    xor eax, eax
    mov ecx, 0x68 / 4
    rep stosd
    mov dword [TSS1 + 0x1c], PAE_PDPT + 0x20
    mov dword [TSS1 + 0x20], new_task
    mov dword [TSS1 + 0x24], 2
    mov dword [TSS1 + 0x38], 0xb000          ; ESP
    mov dword [TSS1 + 0x4c], 0x08            ; CS
    mov dword [TSS1 + 0x50], 0x10            ; SS
    mov dword [TSS1 + 0x48], 0x10            ; ES
    mov dword [TSS1 + 0x54], 0x10            ; DS
    mov word [TSS1 + 0x66], 0x68
    TRY .t_r
    jmp 0x30:0
.t_r:
    CHECK_EXC "task switch bad pdpte", 13, 0, new_task
    mov eax, cr3
    CHECK_EQ "task cr3", eax, PAE_PDPT + 0x20
    mov eax, PAE_PDPT
    mov cr3, eax
    call paging_off
    jmp finish

new_task:
    PRINT "new task ran", 10
    jmp finish

; At CPL 3 with 32-bit paging.
user_part:
    TRY .u1_r
.u1_f:
    mov eax, [X0 + 4]
.u1_r:
    CHECK_EXC "user read not present", 14, 4, .u1_f
    TRY .u2_r
.u2_f:
    mov dword [X0], 0
.u2_r:
    CHECK_EXC "user write not present", 14, 6, .u2_f
    TRY .u3_r
    mov eax, [X1]
.u3_r:
    CHECK_EQ "user read ro", eax, 0x11111111
    TRY .u4_r
.u4_f:
    mov dword [X1 + 4], 0
.u4_r:
    CHECK_EXC "user write ro", 14, 7, .u4_f
    CHECK_EQ "cr2", [got_cr2], X1 + 4
    TRY .u5_r
.u5_f:
    mov eax, [X2 + 8]
.u5_r:
    CHECK_EXC "user read supervisor", 14, 5, .u5_f
    TRY .u6_r
.u6_f:
    mov word [X2 + 8], 0
.u6_r:
    CHECK_EXC "user write supervisor", 14, 7, .u6_f
    TRY .u7_r
    mov eax, X2
    jmp eax
.u7_r:
    CHECK_EXC "user fetch supervisor", 14, 5, X2
    CHECK_EQ "cr2", [got_cr2], X2
    TRY .u8_r
.u8_f:
    mov eax, [XS]
.u8_r:
    CHECK_EXC "user pte, supervisor pde", 14, 5, .u8_f
    TRY .u9_r
    mov dword [X3], 0x77777777
.u9_r:
    CHECK_EQ "user write rw", [got_vec], 0xff
    int R3_VEC

; At CPL 3 with PAE paging and EFER.NXE.
user_nx:
    TRY .n1_r
    mov eax, 0x401000
    jmp eax
.n1_r:
    CHECK_EXC "user nx fetch", 14, 0x15, 0x401000
    TRY .n2_r
.n2_f:
    mov eax, [0x400000]
.n2_r:
    CHECK_EXC "user rsvd read", 14, 0xd, .n2_f
    int R3_VEC

    ROM_END
