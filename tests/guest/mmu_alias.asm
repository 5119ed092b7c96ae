; umbra-args: -bios {bin} -no-reboot
; Aliases (SDM vol. 3A, 4.10): one physical page mapped at several linear
; addresses, in one address space and across two.  A store through one
; alias is seen by a load through the other, whatever was cached for
; either; rights are per alias (a read-only alias faults on writes while
; the writable one does not); code written through one alias and run
; through another runs as written.
%include "lib.inc"
%include "pm_lib.inc"
%include "mmu_lib.inc"

PD   equ 0x300000
PD2  equ 0x301000
PT1  equ 0x302000           ; 4-8 MiB
PT2  equ 0x303000           ; 8-12 MiB
FRAME equ 0x380000
FRAME2 equ 0x381000
X    equ 0x400000           ; FRAME, writable
Y    equ 0x805000           ; FRAME, writable, other table
Z    equ 0x401000           ; FRAME, read-only
S    equ 0x402000           ; FRAME, then FRAME2 (straddle test: X+0x1000..)
URW  equ PTE_P | PTE_RW | PTE_US

main:
    PRINT "mmu_alias", 10
    call mmu_init
    mov edi, PD
    call new_pd
    mov edi, PT1
    call zero_page
    mov edi, PT2
    call zero_page
    mov dword [PD + 4], PT1 | URW
    mov dword [PD + 8], PT2 | URW
    mov dword [PT1], FRAME | URW
    mov dword [PT1 + 4], FRAME | PTE_P | PTE_US
    mov dword [PT2 + 5 * 4], FRAME | URW
    mov edi, PD2
    call new_pd
    mov dword [PD2 + 8], PT2 | URW    ; the second space has only Y
    mov eax, PD
    call paging_on
    mov eax, cr0
    or eax, CR0_WP
    mov cr0, eax

    ; both aliases cached, then a store through each
    mov eax, [X]
    mov eax, [Y]
    mov eax, [Z]
    mov dword [X + 0x10], 0x11111111
    CHECK_EQ "x->y", [Y + 0x10], 0x11111111
    CHECK_EQ "x->z", [Z + 0x10], 0x11111111
    mov dword [Y + 0x10], 0x22222222
    CHECK_EQ "y->x", [X + 0x10], 0x22222222
    CHECK_EQ "y->z", [Z + 0x10], 0x22222222
    ; byte stores and a string store through one, compared through another
    mov byte [X + 0x11], 0x99
    CHECK_EQ "byte", [Y + 0x10], 0x22229922
    mov edi, X + 0x100
    mov eax, 0x5a5a5a5a
    mov ecx, 0x100
    rep stosd
    mov esi, Y + 0x100
    mov edi, X + 0x100
    mov ecx, 0x100
    repe cmpsd
    CHECK_EQ "rep stosd/cmpsd", ecx, 0
    ; copy within the page from one alias to the other
    mov esi, Y + 0x100
    mov edi, X + 0x800
    mov ecx, 0x40
    rep movsd
    CHECK_EQ "rep movsd", [Z + 0x8fc], 0x5a5a5a5a

    ; the read-only alias faults, the writable one does not
    TRY .ro_r
.ro_f:
    mov dword [Z + 0x20], 1
.ro_r:
    CHECK_EXC "write via ro alias", 14, 3, .ro_f
    CHECK_EQ "cr2", [got_cr2], Z + 0x20
    TRY 0
    mov dword [X + 0x20], 2
    CHECK_EQ "rw alias", [Z + 0x20], 2
    ; at CPL 3: reads through Z, writes through X
    mov eax, user_part
    call ring3_call
    CHECK_EQ "user wrote", [Y + 0x30], 0x33333333
    CHECK_EQ "user read", [user_saw], 0x33333333

    ; the other address space sees the stores through Y
    mov dword [Y + 0x40], 0x44444444
    mov eax, PD2
    mov cr3, eax
    CHECK_EQ "space 2", [Y + 0x40], 0x44444444
    mov dword [Y + 0x44], 0x55555555
    mov eax, PD
    mov cr3, eax
    CHECK_EQ "space 1", [X + 0x44], 0x55555555

    ; a dword straddling two pages, each an alias of another page
    mov dword [PT1 + 8], FRAME2 | URW         ; S..S+0xfff -> FRAME2
    mov dword [PT1 + 12], FRAME | URW         ; S+0x1000 -> FRAME
    mov dword [S + 0xffe], 0xa1b2c3d4
    CHECK_EQ "straddle lo", [FRAME2 + 0xffc], 0xc3d40000
    CHECK_EQ "straddle hi", [X], 0x0000a1b2   ; FRAME's first word was 0

    ; code written through X, run through Y
    mov esi, code_tmpl
    mov edi, X + 0xc00
    mov ecx, code_end - code_tmpl
    rep movsb
    call Y + 0xc00
    CHECK_EQ "run via alias", eax, 0x600dc0de
    mov dword [X + 0xc01], 0x0badc0de
    call Y + 0xc00
    CHECK_EQ "rewritten code", eax, 0x0badc0de

    call paging_off
    jmp finish

user_saw equ scratch + 0
user_part:
    mov dword [X + 0x30], 0x33333333
    mov eax, [Z + 0x30]
    mov [user_saw], eax
    int R3_VEC

code_tmpl:
    mov eax, 0x600dc0de
    ret
code_end:

    ROM_END
