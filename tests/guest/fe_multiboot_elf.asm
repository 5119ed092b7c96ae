; Multiboot v1 boot of an ELF32 executable (no a.out kludge): a kernel
; linked at 0xC0100000 with load addresses at 1 MiB.  The loader must copy
; each PT_LOAD segment to p_paddr, zero its bss, translate the virtual
; entry point to the physical one and pass just the kernel path as the
; command line when -append is absent.  The ELF headers are built by hand.
; umbra-args: -kernel {bin}

    bits 32

TEXT_PA equ 0x100000
DATA_PA equ 0x200000
VIRT    equ 0xC0000000
BSS_LEN equ 0x2000

section hdr start=0
ehdr:
    db 0x7f, "ELF", 1, 1, 1, 0         ; ELF32, little-endian, SysV
    times 8 db 0
    dw 2                               ; ET_EXEC
    dw 3                               ; EM_386
    dd 1
    dd VIRT + start                    ; virtual entry point
    dd phdr - ehdr
    dd 0                               ; no section headers
    dd 0
    dw 52, 32, 2, 40, 0, 0
phdr:
    dd 1, section.text.start, VIRT + TEXT_PA, TEXT_PA
    dd text_end - TEXT_PA, text_end - TEXT_PA, 5, 0x1000
    dd 1, section.data.start, VIRT + DATA_PA, DATA_PA
    dd data_end - DATA_PA, data_end - DATA_PA + BSS_LEN, 6, 0x1000

section text follows=hdr align=16 vstart=TEXT_PA
mb_header:
    dd 0x1BADB002, 3, -(0x1BADB002 + 3)

%macro EXPECT 3
    cmp %1, %2
    je %%ok
    mov al, %3
    jmp fail
%%ok:
%endmacro

start:
    mov esp, DATA_PA + 0x1000 + BSS_LEN ; top of the zeroed bss
    cld
    EXPECT eax, 0x2BADB002, 1
    call .here                          ; running at the physical address?
.here:
    pop eax
    EXPECT eax, .here, 2
    EXPECT dword [data_word], 0x12345678, 3
    ; The bss right after the file-backed data reads as zero.
    EXPECT dword [data_end], 0, 4
    ; Command line: exactly the kernel path, ending in ".bin".
    mov esi, [ebx + 16]
.len:
    cmp byte [esi], 0
    je .got
    inc esi
    jmp .len
.got:
    EXPECT dword [esi - 4], '.bin', 5
    EXPECT dword [ebx + 20], 0, 6       ; no modules
    mov esi, s_pass
    mov ecx, s_pass_end - s_pass
    mov dx, 0xe9
    rep outsb
    mov al, 0
    out 0xf4, al
    hlt

fail:
    out 0xf4, al
    hlt

s_pass: db "fe_multiboot_elf: all checks passed", 10
s_pass_end:
text_end:

section data follows=text align=16 vstart=DATA_PA
data_word: dd 0x12345678
data_end:
